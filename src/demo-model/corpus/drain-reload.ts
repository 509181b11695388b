// Training text for the demo model: drain, reload, rollback and shutdown.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const DRAIN_RELOAD = `
Sooner or later you will want to change the model, or stop the daemon for an upgrade. Inferd makes both of these gentle. It drains before it stops, and it reloads without dropping the work already in flight. Clients see a short pause at worst, and never a reply that is cut off without an explanation.

Draining means finishing what has started while refusing what has not. When a drain begins, the daemon stops taking new requests and tells the status stream that it is draining. Requests that are running keep their slots and finish normally. Requests that are still waiting in the queue are answered with an error that tells the client to retry later.

A drain has a deadline. If some requests are still running when the deadline passes, the daemon ends them with an error frame that says the server is shutting down. Every stream still gets its terminal frame, so clients can tell a cut reply from a finished one, and nobody waits forever.

A reload swaps the model while the daemon keeps running. The daemon reads the new configuration, loads the new model beside the old one, and checks it. Only when the new model is ready does it move the slots over. Requests that started on the old model finish on the old model, and new requests go to the new one.

If the new model cannot be loaded, the reload is rolled back. The old model keeps serving, the status stream explains what went wrong, and the daemon returns to the ready state. A typo in a path or a file with the wrong hash never takes down a working service.

Memory is the main cost of a reload, because two models sit in memory for a short time. On a machine where that is too much, you can ask for a reload that drains first. The daemon then finishes the running requests, unloads the old model, and loads the new one, at the price of a short gap in service.

The usual signals do what you would expect. A terminate signal starts a drain and then exits. An interrupt from the terminal does the same, and a second interrupt skips the wait. A hang up signal asks the daemon to reload its configuration and its model, which is the classic way to tell a service that its settings have changed.

The admin socket offers the same actions as commands. A script can ask for a drain, a reload or a stop, and it gets a reply frame when the action has been accepted. The progress of the action then appears on the status stream, so the script can follow it to the end.

During a drain, the health route keeps answering with success, because the process is still alive. The ready route answers with an error, because new work is not welcome. A load balancer that watches the ready route stops sending traffic, while the service manager that watches the health route leaves the process alone.

Shutting down cleanly means closing every resource that the daemon opened. The HTTP server stops listening, the sockets are closed and their files removed, the context and the model are released, and the lock is freed. Only then does the process exit. A test can start and stop the daemon many times in a row and find nothing left over.

The exit code tells the service manager what happened. A clean stop after a drain exits with zero. A failure to start, such as a bad configuration or a port in use, exits with a code that names the kind of problem. A crash is the one case that the daemon cannot report itself, which is why it loads untrusted models in a helper process.

Reloads are also how the daemon picks up a new version of the same model. If the configuration names a new hash, the daemon downloads the new file into the store next to the old one, verifies it, and switches over. The old file stays in the store until you remove it, so rolling back is as quick as changing the hash again.

A reload that is asked for while another reload is running does not start a second one. The daemon remembers the latest request and runs it after the current one finishes. This keeps the sequence of states easy to follow, and it means a burst of reload requests leads to exactly one more reload.

In tests, drain and reload are the features most worth checking. A good test starts a few long requests, asks for a drain, and checks that each request ends with a terminal frame and that the daemon exits with zero. Another test asks for a reload with a broken model and checks that the old model keeps answering.

Graceful behaviour is not free, but it is cheap. The daemon keeps a count of running requests and a list of waiting ones, and it checks them whenever the state changes. The cost is a few lines of bookkeeping, and the reward is a service that can be changed at any time without anyone noticing.
`;
