import sys

import trio

from trio_nodehttp import http

BODY = b"Hello, world!\n"


async def handler(req, res):
    res.set_header("Content-Type", "text/plain")
    await res.end(BODY)


async def main(port):
    # all Node defaults on: timeouts armed, events, header objects
    server = http.create_server(handler)
    async with server:
        await server.listen(port, "127.0.0.1")
        await trio.sleep_forever()


trio.run(main, int(sys.argv[1]))
