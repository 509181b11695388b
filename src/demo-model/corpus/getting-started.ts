// Training text for the demo model: installing inferd, starting it, the first request.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const GETTING_STARTED = `
Starting inferd for the first time takes less than a minute. You install the package with npm, and then you run the serve command. The daemon prints a short line for each step of its start up, and after a moment it tells you that it is ready and which address it is listening on.

On a fresh machine there is no model configured, so the daemon serves its built in demo model. It builds the demo model in a couple of seconds, writes it to the model folder, checks it like any other file, and loads it. From then on it behaves exactly as it would with a large model, only much faster and with much less to say.

The default address is the loopback interface on port 47321. You can send a first request with curl. Post a small JSON body with a prompt to the infer route, and the daemon answers with a stream of lines. Each line is one frame, and each token frame carries a small piece of text. The last line is a done frame that tells you why the reply ended.

If you would rather see the reply in one piece, set stream to false in the request. The daemon then collects the tokens for you and answers with a single JSON object when the reply is finished. This is handy in scripts and tests, although streaming feels faster to a person who is watching.

To check that the daemon is alive, ask for the health route. It answers with a plain success as long as the process is serving requests. The ready route is stricter. It answers with success only when a model is loaded and the daemon is accepting work, and otherwise it returns the current status so you can see what the daemon is waiting for.

A common first step after the demo is to point inferd at a real model. You place a GGUF file somewhere on disk, or give the daemon a URL and a hash, and you name it in the configuration file. On the next start, or after a reload, the daemon checks the file, loads it, and serves it in place of the demo model.

The command line tool has a few helpers besides serve. The status command connects to the admin socket and prints the current state of the daemon. The pull command downloads a model into the store and verifies it without starting the server. The doctor command looks at your machine and tells you about anything that might cause trouble, such as too many threads or a missing binary.

There is also a small chat command. It opens a conversation with the running daemon and lets you type messages and read the replies as they stream in. With the demo model the replies are short and a little odd, but they show that the whole path works, from your keyboard through the socket to the model and back.

When you start the daemon in a terminal, it stays in the foreground and writes its log there. Press control and C once, and it drains the requests that are still running, closes its sockets, and exits cleanly. Press it a second time if you are in a hurry, and it stops at once, telling every open stream that the server is going away.

Most people eventually run inferd as a service. A unit file for systemd is enough. The daemon writes plain log lines to standard output, it exits with a clear status code, and it reacts to the usual signals. It does not fork itself into the background, because the service manager already does that job better.

The first start on a new machine might take a little longer than later ones. The native engine needs to detect the features of your processor, and the demo model has to be written to disk. After that, starts are quick. A small model is ready in well under a second, and a large one takes as long as the disk needs to map it into memory.

If the daemon does not start, the message it prints is the first place to look. Every error has a short code and a sentence that explains it. A port that is already in use, a configuration file with a typo, a model file that fails its check: each of these has its own code, and none of them ends in a stack trace unless you ask for one.

You do not need a graphics card to use inferd. The daemon runs on the processor by default and uses one thread per request slot unless you tell it otherwise. On a laptop with two cores this is the fastest choice, because more threads than cores make each token wait for the others.

When you are ready to try the OpenAI layer, point any OpenAI client at the daemon by changing its base URL. Ask for a chat completion with a short list of messages, and the daemon answers in the familiar format. The model name in the reply is the name of the model that the daemon is serving, which for a fresh install is the demo model.

A quick way to watch the daemon work is to open the status stream in one terminal and send requests from another. The status stream shows the model loading, then the ready state, and then a steady rhythm of updates as requests come and go. It is a good way to build an intuition for how the daemon behaves under load.

Everything that the daemon writes to disk lives in a few well known places. Models go into the model folder in your home directory. Sockets and the lock file go into the runtime folder. The configuration file lives next to the models unless you move it. Nothing else is written, and removing these folders removes every trace of the daemon.

If you want to try inferd without installing it globally, you can run it from a checkout of the repository. Install the dependencies, build the project, and start it with npm. The same demo model appears, and the same commands work, which makes it easy to experiment with a change before you share it.

After the first request succeeds, the next thing most people do is send several at once. The daemon queues them, runs as many as it has slots for, and streams each reply back to the right client. When the queue is full, it answers at once with a clear error and a hint to retry, instead of letting requests pile up forever.
`;
