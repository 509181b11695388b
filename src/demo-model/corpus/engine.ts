// Training text for the demo model: the engine, tokens, sampling and the demo model itself.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const ENGINE = `
The engine is the part of inferd that talks to the model. It hides the native bindings behind a small interface with a handful of methods: load a model, open a context, evaluate a prompt, and generate tokens until a stop. Everything else in the daemon talks to this interface and never to the bindings directly.

A prompt is turned into tokens before the model sees it. A token is a small piece of text, often a whole common word, sometimes a part of a rare one, and sometimes a single byte. The tokenizer comes with the model, so the same text can become a different number of tokens for different models.

Generation is a loop. The engine feeds the prompt tokens to the model, and the model answers with a score for every token in its vocabulary. The sampler turns those scores into probabilities, picks one token, and feeds it back. The loop repeats until the model picks its end token, the reply reaches its limit, or the request is cancelled.

The temperature changes how the sampler picks. At a low temperature it nearly always picks the most likely token, and the reply becomes safe and repetitive. At a higher temperature it takes more chances, and the reply becomes more varied and sometimes strange. A temperature near one is a good place to start for the demo model.

A seed fixes the random choices of the sampler. With the same model, the same prompt, the same settings and the same seed, the engine produces the same tokens every time. The daemon passes the seed straight through, which makes replies easy to reproduce when you report a problem or write a test.

Grammars can constrain what the model writes. A grammar describes which texts are allowed, and the sampler only picks tokens that keep the reply inside the grammar. This is how the daemon can promise valid JSON when a client asks for it. A grammar that can never be satisfied ends the request with an error instead of looping forever.

Each slot in the engine has its own sequence in the context. A sequence remembers the tokens it has seen, so a follow up request in the same conversation can reuse the work already done. The engine clears a sequence when a slot is handed to a new request, so one client never sees the memory of another.

The engine runs its native work off the main thread. The event loop stays free to accept connections, parse requests and write frames while a token is being computed. This is why a busy daemon still answers its health route at once, even when every slot is generating.

The demo model is a small and honest trick. It is a real model file in the same format as any other, but its weights were not trained in the usual way. They were computed directly from counts of which token tends to follow which in a few pages of plain English notes about inferd. When it writes, it is replaying those patterns one token at a time.

Because the demo model only looks at the previous token, its sentences drift. A reply may start with the status stream, wander through the model store, and end with a remark about sockets. The grammar is loose and the facts are mixed, but the words are real words, the sentences end with a full stop, and the reply ends on its own after a few sentences.

The demo model is built rather than downloaded. Its weights come from a fixed text and a fixed recipe, with no randomness and no clock involved, so every build produces the same bytes. The daemon knows the hash of those bytes in advance and checks the built file against it, just as it would check a download.

The demo model is also fast. It has one layer and a very narrow attention, so most of the work is a single table lookup and one small matrix product per token. On one core of an ordinary laptop it produces several hundred tokens per second, which keeps the tests quick and makes the daemon feel responsive even on slow machines.

Threads deserve a final word. The engine gives each slot a fixed number of threads, and by default that number is one. Small models run best this way, because the cost of waking extra threads is larger than the work they would share. Large models on large machines benefit from more threads, and the setting is there for them.

When the engine meets an error, it reports it with a code and keeps going. A failed evaluation ends the request that caused it. A failed load leaves the daemon without a model but still running. Only a crash inside the native code can stop the process, which is why the daemon checks model files before it loads them.

The engine interface is also what makes testing easy. A scripted engine that follows the same interface can produce slow tokens, sudden failures and strange timings on demand. Most tests use the real engine with the demo model, and a few use the scripted one to check the paths that a real model rarely takes.
`;
