// Training text for the demo model: the model store, downloads and quarantine.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const MODEL_STORE = `
Inferd keeps its models in a store on disk. The store is a plain folder in which every model file is named after its sha256 hash. Two configurations that name the same hash share the same file, and a file can never be replaced by a different one with the same name, because the name is the content.

Downloads go into the store through a temporary file. The daemon writes the bytes to a partial file, checks the hash when the download is complete, and only then renames the file to its final name. A half finished download never looks like a finished model, even if the daemon is stopped in the middle of it.

A download that is interrupted can be resumed. When the daemon finds a partial file for the hash it wants, it asks the server for the rest of the file, starting at the size it already has. If the server does not support ranges, the daemon starts again from the beginning. Either way, the final hash decides whether the file is good.

Progress is reported while the download runs. The status stream shows the number of bytes received and the total size, when it is known. The total comes from the response headers, or from the size in the configuration when the server does not send one. A dashboard can turn these numbers into a progress bar.

The fetcher is careful about where it goes. It follows a limited number of redirects, it refuses to fall back from secure to plain connections, and it never sends your token to a server other than the daemon itself. The address in the configuration is the only place a download may come from.

When the hash of a downloaded file is wrong, the file goes to quarantine. The quarantine folder sits inside the store, and each file in it is named after the hash it should have had and the hash it really has. The daemon reports both hashes on the status stream, so you can tell a corrupted download from a wrong entry in the configuration.

Quarantined files are kept so that you can look at them, but they are never loaded. You can delete them at any time. The pull command has an option that empties the quarantine, and the doctor command tells you how much space the quarantine is taking.

The store is safe to share between several daemons on the same machine. Each file is written once and then only read, so many daemons can map the same model without copying it. Writers use a temporary name and an atomic rename, so a reader never sees a file that is still being written.

Files in the store are checked again at every load. The daemon compares the size first, which is instant, and then computes the hash. For a very large model the hash takes some time, so the daemon keeps a small record of the files it has already verified, together with their size and modification time, and skips the work when nothing has changed.

The store does not delete old models on its own. When you switch to a new model, the old file stays where it was. This makes rolling back instant, but it also means the store can grow. The pull command lists the models in the store with their sizes and tells you which ones the current configuration uses.

Files given by path are not copied into the store. The daemon checks them in place and loads them from where they are. This is handy while you are converting or quantising a model yourself, since you can point the daemon at the output folder and reload after each attempt.

The demo model lives in the store like any other file. It is named after its hash, which is the same on every machine, so the daemon knows whether it needs to write it. If the file is there and its hash is right, the daemon loads it at once. If it is missing or damaged, the daemon builds it again in a couple of seconds.

Disk errors are reported with the store invalid code. A store folder that cannot be created, a file that cannot be read, or a rename that fails all end up there, with a message that names the path. The daemon never hides a disk error behind a generic failure, because the fix is usually a permission or a full disk.

The layout of the store is simple on purpose. You can copy a model into it by hand, as long as you name the file after its hash. You can back up the store with any tool that copies files. And you can move it to a larger disk by changing one setting and moving the folder.
`;
