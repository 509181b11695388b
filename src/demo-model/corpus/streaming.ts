// Training text for the demo model: streaming tokens as NDJSON and SSE, frames, cancellation.
// Frozen once the demo sha256 is pinned: any edit here changes the model bytes.
export const STREAMING = `
A reply from a language model is produced one token at a time, and inferd sends each token to the client as soon as it exists. This is what makes a reply feel alive. The first words appear after a few milliseconds, and the rest follow at the speed of the model, instead of all at once at the end.

The native stream uses newline delimited JSON. Every frame is one JSON object on its own line. A token frame carries the request id and a small piece of text. A done frame closes the stream and says why the reply ended and how many tokens were used. An error frame closes the stream when something went wrong, and it carries a short code and a message.

A token frame is one short line such as {"type": "token", "id": "r1", "text": "The"}. The next line might be {"type": "token", "id": "r1", "text": " daemon"}, and so on until the reply is complete. A client reads the "type" field first, because it decides what the rest of the line means.

A done frame looks like {"type": "done", "id": "r1", "reason": "stop", "tokens": 42}. The "reason" field is "stop" when the model ended the reply itself, "length" when the token limit was reached, and "cancelled" when the client went away. An error frame looks like {"type": "error", "id": "r1", "code": "queue_full", "message": "try again later"}.

Every stream ends with exactly one terminal frame. It is either a done frame or an error frame, and nothing comes after it. A client can rely on this rule. If the connection closes without a terminal frame, the client knows that the connection was lost, not that the reply was finished.

The same frames can travel as server sent events. A browser that asks for an event stream gets each frame as a data line followed by a blank line. There are no event names, so a simple message handler sees every frame. The payload is the same JSON that the newline delimited stream would carry, byte for byte.

Choosing between the two formats is up to the client. If the request says that it accepts an event stream, the daemon answers with events. Otherwise it answers with newline delimited JSON. A query parameter can force either choice, which is useful when a tool cannot set headers.

Tokens do not always line up with characters. A single character outside plain ASCII may be split across several tokens, and a token may end in the middle of it. The daemon holds back partial characters until they are complete, so every text piece it sends is valid text. A client can simply append each piece to what it already has.

A reply ends for one of a few reasons. The model may produce its end token, which means it thinks the answer is finished. The reply may reach the limit on the number of tokens that the client asked for. A stop sequence may appear in the text. Or the client may go away. The done frame names the reason, so a client can tell a natural ending from a cut.

When a client disconnects in the middle of a reply, the daemon notices at once. It aborts the generation, frees the slot, and moves on to the next request in the queue. The model does not keep writing into a socket that nobody reads, and the slot is not wasted on work that will be thrown away.

Cancellation flows through the whole daemon as an abort signal. The transport creates it when the request arrives and fires it when the client goes away. The admission gate uses it to remove a request that is still waiting. The engine uses it to stop generating. Because it is one signal, every layer agrees about what happened.

Long streams need a little care from proxies. Some proxies buffer responses until they are complete, which would hide every token until the end. The daemon sets headers that ask proxies not to buffer and not to cache, and it sends a small comment now and then on idle event streams so that the connection is not closed for being quiet.

Backpressure is handled by the transport. If a client reads slowly, the socket buffer fills up, and the daemon waits before it writes more. The model keeps generating into a small buffer, and if that buffer grows too large, the request is ended with an error rather than letting memory grow without limit.

A request that does not want a stream can ask for a single answer. The daemon then runs the same generation, collects the text, and sends one done frame with the whole reply inside. The work is the same, only the delivery is different, and the same limits and errors apply.

The request body is validated before any work begins. A prompt that is too long, a temperature outside its range, or a field with the wrong type is refused with an invalid request error. The message names the field and the problem, so a developer can fix the request without reading the source.

Sampling settings are part of the request. The temperature controls how adventurous the model is. A seed makes a reply repeatable, so that the same prompt with the same seed and the same model gives the same tokens. This is very useful in tests, where a stable reply makes it easy to check that nothing changed.

Streams from several clients run side by side. Each request has its own slot in the engine, and tokens from different requests never mix. The daemon tags every frame with the id of its request, and the id is chosen by the client or assigned by the daemon when the client does not pick one.

Timing information is included in the done frame. It tells you how long the request waited in the queue, how long the prompt took to process, and how many tokens per second the model produced. These numbers come from the daemon itself, so they include everything except the network between you and the server.

Writing a client for the stream is easy in almost any language. Read the response line by line, parse each line as JSON, and look at its type. Append token text to the reply, finish on done, and report the message on error. For event streams, most languages already have a library, and browsers have one built in.
`;
