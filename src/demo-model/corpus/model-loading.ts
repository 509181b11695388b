// Training text for the demo model: how inferd loads and verifies a model.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const MODEL_LOADING = `
Loading a model is the slowest and most delicate thing the daemon does, so inferd breaks it into clear phases. First it checks whether the file is already on disk. Then it downloads it if needed, verifies its hash, maps it into memory, and finally allocates the cache for the context. Each phase is announced on the status stream before it begins.

The first check is cheap. The daemon looks for the model in the store by its hash. If a file with the right name and size is already there, the download is skipped. If the file is missing or has the wrong size, the daemon knows it has work to do and says so.

Verification reads the whole file and computes its sha256. The result must match the hash in the configuration exactly. A file that does not match is never loaded. Instead, it is moved to a quarantine folder with a name that records both the expected and the actual hash, so that you can look at it later and work out what went wrong.

Before the native loader sees a file, inferd reads its header in plain JavaScript. It checks the magic bytes, the version, the number of tensors and metadata keys, the length of every string, and the position of every tensor. A file that claims to hold more data than it really does is refused with a clear message. This matters because a broken file can bring down the native code, and with it the whole process.

The header check is quick even for very large files. It reads only the start of the file, where the metadata and the tensor table live, and never the weights themselves. For a model of many gigabytes it touches a few megabytes at most and finishes in a fraction of a second.

The check also looks for the keys that the engine needs. Every model must name its architecture, its context length, its embedding size, and its number of layers. Models built from attention layers must also say how many heads they have and how wide their feed forward layers are. A file that lacks one of these would fail inside the engine in a way that cannot be caught, so the daemon refuses it early and names the missing key.

Once the file has passed its checks, the engine maps it into memory. Mapping is fast because the operating system reads pages only when they are first touched. On a machine with enough memory the whole model soon sits in the page cache, and a restart of the daemon can reuse it without reading the disk again.

The last phase allocates the context. The context holds the key and value cache for every slot, and its size depends on the context length and on the number of slots. The daemon reports the context size it asked for, so you can see at a glance how much memory a change in the configuration will cost.

If any phase fails, the daemon does not give up silently. It reports the failure with a coded error, keeps its admin socket open, and waits. You can fix the configuration and ask it to reload, or you can read the error from the status stream and decide what to do next. The daemon never serves a model that failed to load.

During a reload the old model keeps serving while the new one loads. Only when the new model has passed every check and is ready does the daemon switch over. If the new model fails, the daemon rolls back and the old model keeps running, and the status stream explains why the reload did not happen.

Loading the model in a separate process is one of the ways the daemon protects itself. A crash in native code then ends only the helper, and the daemon can report the failure and carry on. For trusted files the engine can run in the main process, which saves a little memory and a little time.

The demo model goes through exactly the same steps as any other file. It is built in memory, written to the model folder with a temporary name, synced to disk, and renamed into place. Then it is hashed, checked and loaded. The only difference is that its hash is known in advance, because the same bytes come out of every build.

Model files come in many sizes and formats. Inferd understands GGUF, the format used by llama.cpp, and it reads the type of every tensor so that it can compute how many bytes each one should take. A tensor with a type the daemon does not know is refused, because the daemon cannot tell whether its data fits in the file.

The context length in the model file is the length the model was trained for. The daemon uses a context of its own, which by default is large enough for long conversations. If you ask for a context longer than the model was trained for, the engine warns you, and the quality of the replies may suffer near the end of a very long prompt.

Memory use is easy to predict. The weights take roughly the size of the file. The cache takes an amount that grows with the context length and the number of slots. The daemon itself takes a small, steady amount on top. The doctor command adds these numbers up and compares them with the memory your machine has.

A model that loads correctly is not yet a model that answers correctly. After loading, the daemon runs a tiny warm up request to make sure the engine produces tokens. This catches broken installs early, before the first real client is kept waiting, and it also fills caches that make the first real request faster.

When the model is ready, the daemon announces its capabilities. It says whether the model can embed text, whether it has a chat template, how many slots it runs, and which accelerator it uses. Clients can read this once at start up and adapt, for example by hiding a chat window when the model has no template.

Unloading is just as careful as loading. The daemon stops taking new requests, waits for the ones that are running, releases the context, and then releases the model. Every resource has an owner, and every owner closes what it opened, so a daemon that has stopped leaves nothing behind.
`;
