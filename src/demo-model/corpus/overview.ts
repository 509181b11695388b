// Training text for the demo model: what inferd is and why it exists.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const OVERVIEW = `
Inferd is a small daemon that runs one language model on your own machine and serves it to every program that asks. It starts quickly, it says what it is doing, and it keeps running when a client misbehaves. You can talk to it over plain HTTP, over a Unix socket, or through a client library that already speaks the OpenAI API.

The idea behind inferd is simple. A model file is large and slow to load, so it should be loaded once and then shared. Many small programs on the same machine want to ask the same model a question. Instead of each program loading its own copy, they all send their requests to the daemon, and the daemon answers them in turn.

Inferd does one thing and tries to do it well. It brings a single model up, keeps it warm in memory, and streams tokens back to whoever asked for them. It does not train models, it does not host a web page full of settings, and it does not try to be a cluster. When you need more than one model, you run more than one daemon.

The daemon is written in TypeScript and runs on Node. The heavy work happens inside llama.cpp, which inferd reaches through the node-llama-cpp bindings. Node handles the network, the queue and the status messages, while the native code does the arithmetic. This split keeps the code easy to read and the hot path fast.

When people first meet inferd they usually ask what makes it different from running a model by hand. The answer is mostly about the edges. A script that loads a model works until something goes wrong. Inferd is built around the things that go wrong: a model file that is half downloaded, a client that disconnects in the middle of a reply, a queue that fills up, a restart that must not drop the work already in flight.

Every part of inferd reports its state. While the model loads, the daemon tells you which phase it is in. While requests run, it counts them. When it is ready, it says so, and when it is about to stop, it says that too. A dashboard in a browser can follow all of this as it happens, and so can a shell script that only wants to wait until the model is ready.

The daemon is meant for one machine or a small network at home or in an office. It listens on the loopback address by default, so nothing outside your computer can reach it until you decide otherwise. If you want other machines to use it, you put it behind a proxy and turn on a token, and then the daemon checks that token on every request.

A good way to think about inferd is as a careful waiter in a busy kitchen. The kitchen is the model, and it can only cook so many dishes at once. The waiter takes orders, tells guests how long they will wait, carries each dish out as soon as it is ready, and never lets a dropped plate stop the rest of the service.

Inferd ships with a tiny demo model built in. The demo model is not clever, but it is real. It loads through the same code path as a large model, it produces tokens one at a time, and it stops on its own when a reply is finished. This means you can start the daemon on a fresh machine with no network and still see every feature work.

The demo model writes short paragraphs about inferd itself. It learned them from a small set of plain English notes, so its sentences sound a little like this page. They are not always correct, and they often wander from one topic to another, but they read like English and they are produced by the same engine that would run a much larger model.

Most users never need to change anything to get started. You install the package, you start the daemon, and you send it a prompt. Later you point it at a real model file, set the number of parallel slots, and perhaps move the sockets to a different folder. Each of those steps is a single setting.

Inferd values boring, predictable behaviour. A request either gets a slot or a clear error that says to try again. A stream either finishes with a done frame or with an error frame, and never just stops. A model either passes its checks and loads, or it is refused with a message that names the file and the problem.

The project grew out of an older daemon written in Rust. The new version keeps the same wire protocol, so existing clients keep working. It adds an HTTP surface with server sent events, an OpenAI compatible layer, and a status stream that a browser can read without any extra library.

Because the daemon is small, it is easy to read from end to end. The code is split into short files, each named after one idea: the status bus, the admission gate, the model store, the engine. A new contributor can find the part they care about in a few minutes and follow a request from the socket to the model and back.

Speed matters, but it is measured rather than assumed. The project keeps a set of benchmarks that compare the daemon with the raw engine running in the same process. The goal is that the daemon adds very little on top of the engine, even for tiny models where each token takes less than a millisecond.

Reliability matters even more than speed. A local daemon often runs for weeks. It must not leak memory, it must not leave sockets behind, and it must not crash because one client sent a strange request. Each boundary in inferd validates what comes in and answers with a coded error instead of throwing it away.

Security is treated as part of the design. A model file is checked before the native loader ever sees it, because a broken file can crash a process that trusts it. Downloads are checked against a known hash. The admin socket is readable only by the user who started the daemon, and no endpoint lets a client upload a file and load it.

If you are curious about how the pieces fit, the short version goes like this. The configuration decides which model to serve. The lifecycle brings that model up and reports each step. The engine runs the model. The admission gate decides who may use it and when. The transports turn all of this into frames on the wire.

The rest of these notes describe each piece in turn. They explain how to start the daemon, how it loads and verifies a model, how tokens are streamed, how the status stream works, how the Unix sockets are laid out, how the OpenAI layer behaves, how configuration is read, and how the daemon drains and reloads without losing work.
`;
