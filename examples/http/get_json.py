"""A JSON-fetching client with ``http.get`` (X1-53).

Node's original::

    http.get('http://localhost:8000/', (res) => {
      const { statusCode } = res;
      const contentType = res.headers['content-type'];
      let error;
      if (statusCode !== 200) {
        error = new Error('Request Failed.\\n' + `Status Code: ${statusCode}`);
      } else if (!/^application\\/json/.test(contentType)) {
        error = new Error('Invalid content-type.\\n' +
                          `Expected application/json but received ${contentType}`);
      }
      if (error) {
        console.error(error.message);
        res.resume();   // consume response data to free up memory
        return;
      }
      res.setEncoding('utf8');
      let rawData = '';
      res.on('data', (chunk) => { rawData += chunk; });
      res.on('end', () => {
        try { console.log(JSON.parse(rawData)); } catch (e) { console.error(e.message); }
      });
    }).on('error', (e) => { console.error(`Got error: ${e.message}`); });

    http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: 'Hello World!' }));
    }).listen(8000);

``await http.get(url)`` returns the response (the callback's argument);
errors are exceptions. The client fetches ``/`` (JSON), then ``/text``
(wrong content type) and ``/missing`` (404), which are refused with the
docs' messages after ``await res.resume()``, then a closed port (the
``'error'`` case). Messages go to stdout so that the smoke test sees them.
"""

from __future__ import annotations

import json
import re

from _demo import examples_cli, listening, run

from trio_nodehttp import errors, http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    if req.url == "/":
        res.write_head(200, {"Content-Type": "application/json"})
        await res.end(json.dumps({"data": "Hello World!"}))
    elif req.url == "/text":
        res.write_head(200, {"Content-Type": "text/plain"})
        await res.end("Hello World!")
    else:
        res.write_head(404, {"Content-Type": "application/json"})
        await res.end('{"error": "not found"}')


async def fetch_json(url: str) -> None:
    try:
        res = await http.get(url)
    except (errors.NodeError, OSError) as e:
        print(f"Got error: {e}")
        return
    status_code = res.status_code
    content_type = res.headers.get("content-type")

    error = None
    # Any 2xx status code signals a successful response but here we're only checking for 200.
    if status_code != 200:
        error = f"Request Failed.\nStatus Code: {status_code}"
    elif not isinstance(content_type, str) or not re.match(r"^application/json", content_type):
        error = f"Invalid content-type.\nExpected application/json but received {content_type}"
    if error:
        print(error)
        # Consume response data to free up memory
        await res.resume()
        return

    res.set_encoding("utf8")
    raw_data = ""
    async for chunk in res:
        raw_data += chunk
    try:
        parsed_data = json.loads(raw_data)
        print(parsed_data)
    except ValueError as e:
        print(e)


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with listening(http.create_server(handler), args) as port:
        base = f"http://{args.host}:{port}"
        for path in ("/", "/text", "/missing"):
            print(f"--- GET {path}")
            await fetch_json(base + path)
        await http.global_agent.close()
    print("--- GET from a closed port")
    await fetch_json(base + "/")


if __name__ == "__main__":
    run(main)
