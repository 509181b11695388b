// Training text for the demo model: slots, the queue, metrics and everyday operation.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const ADMISSION = `
The admission gate decides when a request may use the model. The engine has a fixed number of slots, and each running request holds one. When a request arrives and a slot is free, it starts at once. When every slot is busy, the request waits in a queue, and it starts as soon as a slot is released.

The queue has a limit, and the limit is the most important protection the daemon has. Without it, a burst of requests would pile up in memory and every client would wait longer and longer. With it, the daemon refuses the excess at once and tells those clients to come back in a moment, which keeps the waiting time short for everyone else.

Requests leave the queue in the order they arrived. There are no priorities and no tricks. A request that has waited longest is the next to run. If its client disconnects while it waits, the request is removed from the queue and never reaches the model.

A slot is released the moment a request ends, whether it finished normally, hit its token limit, failed, or was cancelled. The gate keeps careful count, and a test checks that the number of busy slots returns to zero after every kind of ending. A leaked slot would slowly starve the daemon, so this count is watched closely.

The metrics route shows what the gate is doing. It reports how many slots are busy, how many requests are waiting, how many were refused because the queue was full, and how long requests spent in the queue. It also counts tokens and requests by outcome. The format is the plain text that monitoring systems already know how to scrape.

Watching these numbers over time tells you whether the daemon is sized well. If requests often wait in the queue, you may want more slots or a faster model. If the queue is often full, clients are sending more than the model can handle, and a larger machine or a smaller model is the answer.

Every request gets an id. A client can choose it, which is useful for matching frames to requests on a shared socket. If the client does not choose one, the daemon makes one up. The id appears in every frame of the reply and in every log line about the request, so you can follow one request through the whole system.

Errors are part of normal operation, and the daemon treats them with care. Each error has a code that says what kind of problem it was and a message that says what happened. A client can decide what to do from the code alone: retry after a moment, fix the request, or give up and tell the user.

The daemon keeps working when a single request fails. A request that runs into a bad prompt, a grammar that cannot be satisfied, or a client that vanished ends with its own error, and the next request starts as if nothing had happened. One bad request never takes down the daemon or the requests beside it.

On a quiet day the daemon uses almost no processor time. It wakes up when a request arrives, runs the model, and goes back to sleep. The status stream sends a heartbeat now and then, but otherwise nothing happens. A daemon that serves a few requests an hour costs little more than the memory that holds the model.

Under heavy load the daemon stays fair and predictable. Every slot is busy, the queue holds a few requests, and the rest are refused with a clear hint to retry. The status stream keeps flowing, the health route keeps answering, and an operator can still reach the admin socket to drain or reload.

Running the benchmarks is the best way to learn how your machine behaves. They send requests at a steady rate, measure the time to the first token and the tokens per second, and compare the daemon with the engine running on its own. The results are printed as ratios, so they stay meaningful on slow and fast machines alike.

Most problems in production come from a small set of causes. The machine has too little memory for the model and the context. The number of threads is too high for the number of cores. The queue is too long, so clients wait instead of retrying. The doctor command checks for each of these and explains what to change.

A small checklist helps when something looks wrong. Read the status stream to see what the daemon thinks it is doing. Read the metrics to see whether requests are waiting or failing. Read the log to find the error codes. In most cases one of these three answers the question within a minute.

The tests for the daemon run against a real engine and the real demo model. They start the daemon, send requests over every transport, cancel some of them, reload the model, and drain it at the end. Because the demo model is tiny and always the same, these tests are fast and their results are stable from one run to the next.
`;
