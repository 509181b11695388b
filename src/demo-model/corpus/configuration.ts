// Training text for the demo model: configuration, environment, threads and context.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const CONFIGURATION = `
Inferd reads its configuration from three places, in a fixed order. First it reads the configuration file, then it applies any environment variables that start with the inferd prefix, and last it applies the flags given on the command line. A later source overrides an earlier one, so a flag always wins over the file.

The configuration file is plain JSON. It lives in the inferd folder in your home directory, unless an environment variable points somewhere else. Every field has a sensible default, so an empty file is a valid configuration, and so is no file at all. In that case the daemon serves the demo model on the loopback address.

Every field is checked when the daemon starts. A field with the wrong type, a number outside its range, or a key that the daemon does not know is reported with a config invalid error. The message names the field and the source it came from, so you know whether to fix the file, the environment, or the command line.

The model section says which model to serve. You can give a path to a file on disk, or a URL together with the expected hash and size. With a URL, the daemon downloads the file into the store and checks it before loading. With a path, it checks the file in place and never modifies it.

A minimal configuration file that names a model might read {"model": {"path": "models/small.gguf"}}. One that also moves the port reads {"model": {"path": "models/small.gguf"}, "server": {"port": 8080}}. Any field you leave out keeps its default, so the file stays short and easy to check.

The server section controls the HTTP listener. It holds the host and the port, and an optional token. When a token is set, every HTTP request must carry it, except the health route, which stays open so that a service manager can check on the daemon. The token is compared in constant time.

The engine section controls how the model runs. It sets the context size, the number of slots, and the number of threads. The context size is the longest prompt plus reply that one request may use. The number of slots is how many requests can run at the same time. The threads decide how much of the processor each step may use.

Choosing the number of threads is the setting that surprises people most. More threads do not always mean more speed. On a machine with two cores, one thread per slot is usually best, because extra threads spend their time waiting for each other. The doctor command looks at your processor and suggests a value.

The queue section sets how many requests may wait for a slot. When every slot is busy, new requests join the queue. When the queue is full, the daemon answers at once with a queue full error and a hint to retry after a second. A short queue keeps waiting times low, and a long one absorbs bursts.

Limits protect the daemon from requests that are too large. There is a limit on the size of a request body, a limit on the number of tokens a reply may have, and a limit on the length of a line on the sockets. Each limit has a default that suits a small model, and each can be raised when a larger model needs it.

The runtime section says where the sockets and the lock file live. Most people leave it alone and let the daemon pick the usual folder. When you run several daemons on one machine, you give each of them a different runtime folder so their sockets do not collide.

Logging is quiet by default. The daemon writes one line for each lifecycle change and one for each error. A debug level adds a line for every request, with its id, its timing and the reason it ended. The native engine has its own log, which the daemon passes through at the warning level unless you ask for more.

Environment variables are handy in containers and service files. Each setting has a variable name made from its path in the file, in capital letters and joined by underscores. A variable that cannot be parsed is reported with the same error as a bad field in the file, so there is only one set of rules to learn.

Some settings can change while the daemon runs, and some cannot. The model and the engine settings take effect on the next reload, which the daemon performs without dropping the requests that are running. The address and the runtime folder take effect only on a restart, because the sockets are already bound.

A good habit is to keep the configuration file small. Write only the fields you want to change and let the defaults handle the rest. When a new version of inferd improves a default, you get the improvement without editing anything, and your file stays easy to read.

The print config command shows the configuration that the daemon would use, after merging the file, the environment and the flags. Each value is shown with the source it came from. This is the quickest way to find out why the daemon is not doing what you expected.

The defaults are chosen for a developer laptop. The daemon listens only on the loopback address, runs one slot with one thread, uses a context large enough for long chats, and keeps a short queue. These choices keep the daemon fast and safe on a small machine, and they are easy to change when you move to a larger one.
`;
