"""A POST of JSON with ``http.request``, ``write()`` then ``end()`` (X1-54).

Node's original (which posts to www.google.com:80; this one posts to a
local server that answers with what it received)::

    const postData = JSON.stringify({ 'msg': 'Hello World!' });
    const options = {
      hostname: 'www.google.com', port: 80, path: '/upload', method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(postData),
      },
    };
    const req = http.request(options, (res) => {
      console.log(`STATUS: ${res.statusCode}`);
      console.log(`HEADERS: ${JSON.stringify(res.headers)}`);
      res.setEncoding('utf8');
      res.on('data', (chunk) => { console.log(`BODY: ${chunk}`); });
      res.on('end', () => { console.log('No more data in response.'); });
    });
    req.on('error', (e) => { console.error(`problem with request: ${e.message}`); });
    // Write data to request body
    req.write(postData);
    req.end();

``Content-Length`` is the body's length in bytes (``len`` of the UTF-8
encoding: the message holds a non-ASCII character to show the
difference). The response arrives with ``await req.response()``; the
``'data'`` and ``'end'`` listeners fire while ``await res.resume()`` reads
the body. An error is an exception of the awaits (here: a second request
to a closed port).
"""

from __future__ import annotations

import json

from _demo import examples_cli, listening, run

from trio_nodehttp import errors, http


async def upload(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    body = await req.read()
    answer = {
        "path": req.url,
        "content-type": req.headers.get("content-type"),
        "content-length": req.headers.get("content-length"),
        "received": json.loads(body),
    }
    res.set_header("Content-Type", "application/json")
    await res.end(json.dumps(answer, ensure_ascii=False))


async def post(hostname: str, port: int) -> None:
    post_data = json.dumps({"msg": "Hello World! (olá)"}, ensure_ascii=False)
    options = {
        "hostname": hostname,
        "port": port,
        "path": "/upload",
        "method": "POST",
        "headers": {
            "Content-Type": "application/json",
            "Content-Length": len(post_data.encode("utf-8")),  # Buffer.byteLength
        },
    }

    async def on_response(res: http.IncomingMessage) -> None:
        print(f"STATUS: {res.status_code}")
        headers = {k: v for k, v in res.headers.items() if k != "date"}  # date: it changes
        print(f"HEADERS: {json.dumps(headers)}")
        res.set_encoding("utf8")
        res.on("data", lambda chunk: print(f"BODY: {chunk}"))
        res.on("end", lambda: print("No more data in response."))

    req = http.request(options, on_response)
    try:
        # Write data to request body
        await req.write(post_data)
        await req.end()
        res = await req.response()  # 'response' (on_response) has run
        await res.resume()
    except (errors.NodeError, OSError) as e:
        print(f"problem with request: {e}")


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with listening(http.create_server(upload), args) as port:
        await post(args.host, port)
        await http.global_agent.close()
    await post(args.host, port)  # the server is gone: the 'error' case


if __name__ == "__main__":
    run(main)
