// Training text for the demo model: the Unix sockets, runtime folder and lock.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const UNIX_SOCKETS = `
Besides HTTP, inferd listens on two Unix sockets. The admin socket is for control and status, and the inference socket is for requests. Local programs can use them without any network stack, without a port number, and without a token, because the file system already decides who may connect.

Both sockets live in the runtime folder. The daemon picks the folder in a fixed order. It prefers the runtime directory that the session provides, then a folder under your home directory, and as a last resort a folder in the temporary directory named after your user id. The folder is created with permissions that let only you enter it.

The admin socket is bound first, as soon as the daemon starts. This means you can watch the whole model load through it, and you can ask the daemon about its state even before the model is ready. The inference socket is bound only when the model is ready, so a client that connects to it never has to wait for a load.

The protocol on both sockets is newline delimited JSON. A client writes one request per line and reads frames until the terminal frame for that request arrives. Several requests may be in flight on the same connection at once, because every frame carries the id of the request it belongs to.

Lines on the socket have a size limit. A line longer than the limit is refused with a frame too large error, and the connection stays open for the next request. This protects the daemon from a client that sends an endless line by mistake, and it keeps memory use small even with many connections.

A lock file sits next to the sockets. When the daemon starts, it takes the lock, and while it holds the lock no second daemon can start in the same folder. If a daemon crashed and left a stale socket behind, the next one notices that the lock is free, removes the old socket files, and binds fresh ones.

Permissions on the sockets are strict. The admin socket can be opened only by the user who started the daemon. The inference socket is open to the same user by default, and you can widen it to a group if several users on one machine should share the model. The daemon never makes a socket readable by everyone.

The socket paths are stable, so scripts can hard code them. A shell script can pipe a JSON line into a small tool that speaks Unix sockets and read the reply line by line. A program in any language can do the same with its standard library, without any client package.

When the daemon drains, it stops accepting new connections on the inference socket, but the admin socket stays open. Clients that are already connected keep receiving their frames until their requests finish. Only then does the daemon close the sockets and remove the files.

On shutdown the daemon removes its socket files and releases the lock. If it is killed so hard that it cannot clean up, the files stay behind, but they do no harm. The next start clears them away after checking that no other daemon is still using them.

The same frames travel over the sockets and over HTTP. A token frame on the inference socket looks exactly like a token line on the infer route. This makes it easy to move a client from one transport to the other, and it means the daemon has only one set of frame builders to keep correct.

Unix sockets are often faster than HTTP for small requests on the same machine. There is no header parsing, no connection upgrade and no port to look up. For a tiny model where each token costs less than a millisecond, the difference can be noticeable, and the socket is the quickest way to reach the daemon.

The admin socket also accepts commands. A client can ask the daemon to reload its model, to drain and stop, or to report its status once. Each command gets a reply frame, and any change it causes shows up on the status stream as well, so every watcher sees the same story.

If you run several daemons on one machine, give each one its own runtime folder. The lock in each folder keeps them apart, and the socket paths tell clients which daemon they are talking to. This is the simplest way to serve two models side by side.

On systems without Unix sockets the daemon still runs, but only over HTTP. The sockets are an addition, not a requirement, and every feature that the sockets offer is also available through the HTTP routes with a token.
`;
