// Training text for the demo model: the OpenAI compatible API.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const OPENAI_API = `
Many tools already know how to talk to the OpenAI API, so inferd speaks a compatible dialect. Chat completions, plain completions, embeddings and the list of models are all available under the usual paths. Point a client at the daemon by changing its base URL, and most code works without any other change.

A chat completion takes a list of messages. Each message has a role and some content. The daemon renders the messages with the chat template that comes with the model, sends the result to the engine, and streams the reply back as chunks in the familiar shape. The last chunk carries the reason the reply finished.

A small request body is enough to start. It might read {"model": "inferd-demo", "messages": [{"role": "user", "content": "Hello"}]}, and the reply comes back with a "choices" list that holds the answer in its "message" field. The "role" of the answer is "assistant", and its "content" is the text the model wrote.

The chat template decides how a conversation is laid out for the model. Most modern models ship their template inside the model file, and the daemon reads it from there. The demo model uses a simple template that wraps each message in start and end markers, which is common among small chat models.

Plain completions are simpler. The client sends a prompt, and the model continues it. There is no template and no roles, just text in and text out. This is useful for models that were never trained to chat, and for tests that want to control the exact tokens the model sees.

Embeddings turn text into a vector of numbers. Two texts with similar meaning should give vectors that point in similar directions. The daemon computes embeddings with the same model it uses for chat, so the quality depends on the model. The demo model gives vectors that are honest but not very useful, since it was never meant to understand meaning.

The list of models always has exactly one entry, because the daemon serves one model. The entry carries the name of that model. Clients that insist on sending a model name in each request may send any name, and the daemon answers with the model it has, naming it in the reply.

Streaming works as it does with the OpenAI service. Set stream to true, and the reply arrives as server sent events, one chunk per event, ending with a done marker. Each chunk holds a small piece of text in the delta field. A client library turns these into a stream of text without any extra work.

Errors on these routes use the OpenAI error shape. The body has an error object with a message, a type and a code. A full queue gives a rate limit error with a hint to retry, a bad request gives an invalid request error, and a model that is still loading gives a server error with a retry hint. The status codes match what the clients expect.

Not every field of the OpenAI API has a meaning for a local model. Fields that the daemon understands, such as the temperature, the token limit, the stop sequences and the seed, are honoured. Fields that make no sense here are accepted and ignored, so that a client built for the cloud service does not fail just because it sends them.

A client can also ask for a reply in JSON. When the request says {"response_format": {"type": "json_object"}}, the daemon limits the model to text that parses as JSON, such as {"answer": "yes", "reason": "the model is ready"}. The grammar makes sure every brace is closed and every string ends with a quote.

Token usage is reported in every reply. The daemon counts the tokens in the prompt and the tokens it generated, and it puts both numbers in the usage field. The counts come from the model tokenizer, so they are exact for the model that the daemon is serving.

The OpenAI routes sit on top of the same core as the native routes. A chat request goes through the same admission gate, takes a slot in the same engine, and can be cancelled in the same way. The only difference is the shape of the frames on the wire. This keeps the behaviour of the two surfaces in step.

Tool calls and images are not supported by the demo model. If a client sends them, the daemon answers with a clear error that names the missing capability, rather than pretending to understand. The capabilities frame tells a client in advance which of these features the current model offers.

Using the official client libraries is straightforward. Create a client with the daemon address as the base URL and any string as the key, unless you have turned on a token, in which case the key is that token. Then call the chat completion method as you would with the cloud service.

Because the daemon runs locally, the round trip is short. A chat request to a small model can produce its first token within a few milliseconds. Larger models take longer, but the daemon adds very little on top of the engine itself, and the reply starts streaming as soon as the first token is ready.

Some applications mix the native routes and the OpenAI routes. They may use the OpenAI layer for chat, because their code already speaks it, and use the native stream for status and fine control. The daemon is happy to serve both at the same time, and the slots are shared between them.

When a new version of the OpenAI API adds fields, the daemon keeps working. Unknown fields are ignored, and known fields keep their meaning. The goal is to be a good local stand in for the common cases, not a perfect copy of every detail of a remote service.
`;
