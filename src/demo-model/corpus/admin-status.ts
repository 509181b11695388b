// Training text for the demo model: the admin status stream.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const ADMIN_STATUS = `
The admin status stream is how inferd tells the world what it is doing. It is a long running response that carries one status frame each time the state of the daemon changes. A dashboard can open it once and keep it open for days, and it will always know whether the model is loading, ready, draining, or restarting.

The first frame on a new connection is always a snapshot of the current state. A client that connects in the middle of a model load does not have to guess what happened before. It sees the phase the daemon is in right now, and then every change after that, in order.

Each status frame has a status and, while the model is loading, a phase. The status says what the daemon is doing in broad terms. The phase says which step of the work is running. A download phase also carries the number of bytes received so far and the total size, when the total is known.

On the wire a status frame is a single JSON object, for example {"id": "admin", "type": "status", "status": "ready"}. While a model loads, the same frame carries a phase as well, as in {"id": "admin", "type": "status", "status": "loading_model", "phase": "verify"}. A client that only cares about readiness can look at the "status" field and ignore the rest.

Status frames are numbered. Every frame that the daemon sends on the stream has an event id that grows by one each time. When a browser loses its connection and reconnects, it sends the last id it saw, and the daemon replays the frames that the browser missed from a small ring of recent events.

If the gap is too large for the ring, the daemon cannot replay everything, so it sends a fresh snapshot instead. The client then knows the current state even though it missed some steps in between. This keeps the stream honest: a client is never left believing in a state that is long gone.

The stream comes in three forms that carry the same bytes. Over HTTP a browser gets server sent events, and a script gets newline delimited JSON. Over the admin socket, local tools get the same newline delimited JSON without any HTTP at all. Whichever form you choose, each frame is the same JSON object.

Idle streams are kept alive with a quiet heartbeat. Every so often the daemon writes a comment line that clients ignore. This tells proxies and load balancers that the connection is still in use, so they do not close it during a long stretch where nothing changes.

A slow reader cannot hold the daemon back. Each subscriber has a small buffer of its own. If a subscriber stops reading and its buffer fills, the daemon drops that subscriber rather than waiting for it. The other subscribers, and the model itself, carry on as if nothing had happened.

The ready status is the one most clients wait for. It means that a model is loaded, that the inference socket is bound, and that requests will be accepted. The ready route on the HTTP server answers with success exactly when the status stream would say ready, so a health checker and a dashboard always agree.

When the daemon reloads its model, the status changes to restarting. The frames then walk through the same phases as the first load, with an extra drain phase at the start and a rollback phase if the new model fails. A dashboard can show a progress bar for the download and a spinner for the rest.

The capabilities frame is sent once the model is ready. It describes what the model can do and how the engine is set up. A chat interface can read it to decide whether to offer a chat window, whether to show an embeddings tool, and how many requests it may send at once before the queue fills up.

Status frames are small and cheap to produce. The daemon builds each one once and sends the same bytes to every subscriber. Even with many dashboards open, the cost of the status stream is a few bytes per change, and nothing at all while the daemon is quiet.

The status stream is read only. It never changes the state of the daemon, and it needs no special rights over HTTP beyond the token that every request needs. Commands that change the state, such as a reload or a drain, travel over the admin socket, where only the owner of the daemon can reach them.

Writing a dashboard for inferd takes only a few lines in a browser. Create an event source for the status route, set a message handler, and parse each message as JSON. Show the status in large letters and the phase in small ones. When the status becomes ready, enable the chat box, and when it becomes draining, disable it again.

The status command in the command line tool is a small client of the same stream. It connects to the admin socket, reads the snapshot, prints it, and exits. With the follow flag it keeps reading and prints each frame as it arrives, which is a handy way to watch a slow download from another terminal.

The names of statuses and phases are part of the protocol. They do not change between minor versions, and new ones are added only in ways that old clients can ignore. A client that sees a status it does not know should treat it as not ready and keep listening, because a known status will follow.

Errors during a load are reported on the stream as well. The frame carries the error code and a message, and the status stays in a state that shows the model is not available. The daemon keeps the stream open, so a dashboard sees the error, and later sees the recovery when the problem has been fixed.
`;
