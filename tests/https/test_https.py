"""``https``: the HTTP/1.1 client and server over TLS (issue 3, item 6).

Certificates come from ``trustme``; the peers are this package's own
client and server, ``curl`` and Node v20 (``https.get`` and
``https.createServer``), all on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme

from trio_nodehttp import errors, http, https
from trio_nodehttp._tls import TLSCertificateError

NODE = shutil.which("node") or "node"  # v20 is on every machine (DESIGN §8)
CURL = shutil.which("curl") or "curl"


# -- certificates and a server ----------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def ca_pem(ca: trustme.CA) -> bytes:
    return ca.cert_pem.bytes()


@pytest.fixture(scope="module")
def pem_files(
    tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA, server_cert: trustme.LeafCert
) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pems")
    files = {"ca": d / "ca.pem", "cert": d / "cert.pem", "key": d / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    files["cert"].write_bytes(b"".join(p.bytes() for p in server_cert.cert_chain_pems))
    server_cert.private_key_pem.write_to_path(str(files["key"]))
    return files


def _tls_kwargs(cert: trustme.LeafCert) -> dict[str, Any]:
    return {
        "cert": b"".join(p.bytes() for p in cert.cert_chain_pems),
        "key": cert.private_key_pem.bytes(),
    }


async def _echo(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    body = await req.read()
    info = {
        "url": req.url,
        "method": req.method,
        "encrypted": req.socket.encrypted,
        "port": req.socket.remote_port,
        "host": req.headers.get("host"),
        "body": body.decode(),
    }
    res.set_header("content-type", "application/json")
    await res.end(json.dumps(info).encode())


@pytest.fixture
async def server(server_cert: trustme.LeafCert) -> AsyncIterator[tuple[https.Server, int]]:
    srv = https.create_server(_echo, **_tls_kwargs(server_cert))
    async with srv:
        await srv.listen(0, "127.0.0.1")
        addr = srv.address()
        assert addr is not None
        yield srv, addr["port"]


@pytest.fixture
async def agent(ca_pem: bytes) -> AsyncIterator[https.Agent]:
    async with https.Agent(keep_alive=True, ca=ca_pem) as a:
        yield a


# -- client against our server -----------------------------------------------------------


async def test_get_with_ca_option(server: tuple[https.Server, int], ca_pem: bytes) -> None:
    _, port = server
    with trio.fail_after(5):
        res = await https.get(f"https://127.0.0.1:{port}/a?b=1", ca=ca_pem, agent=False)
        info = await res.json()
    assert res.status_code == 200
    assert info["url"] == "/a?b=1"
    assert info["encrypted"] is True  # req.socket.encrypted on the server
    assert res.socket is not None and res.socket.encrypted is True
    assert info["host"] == f"127.0.0.1:{port}"


async def test_get_with_ssl_context(server: tuple[https.Server, int], ca: trustme.CA) -> None:
    _, port = server
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    with trio.fail_after(5):
        async with https.Agent(keep_alive=True) as agent:
            res = await https.get(f"https://localhost:{port}/ctx", ssl_context=ctx, agent=agent)
            assert (await res.json())["url"] == "/ctx"
            # an ssl_context given to the agent is used for every request
        async with https.Agent(ssl_context=ctx) as agent2:
            res = await https.get(f"https://127.0.0.1:{port}/ctx2", agent=agent2)
            assert (await res.json())["url"] == "/ctx2"


async def test_default_port_and_protocol_checks() -> None:
    assert https.Agent.default_port == 443 and https.Agent.protocol == "https:"
    assert issubclass(https.Agent, http.Agent)
    with trio.fail_after(5):
        req = https.request("https://example.invalid/")  # no I/O until an await
        assert isinstance(req, http.ClientRequest)
        assert req.protocol == "https:" and isinstance(req.agent, https.Agent)
        assert req.get_header("host") == "example.invalid"  # 443 is not added
        with pytest.raises(errors.InvalidProtocolError):
            https.request("http://example.invalid/")
        with pytest.raises(errors.InvalidProtocolError):
            http.request("https://example.invalid/")
        req.destroy()
        # agent=False: a fresh https.Agent for this request alone
        assert isinstance(https.request("https://example.invalid/", agent=False).agent, https.Agent)


def test_global_agent_is_per_run_and_keeps_alive() -> None:
    async def main() -> https.Agent:
        with trio.fail_after(5):
            await trio.lowlevel.checkpoint()
            agent = https.global_agent
            assert isinstance(agent, https.Agent)
            assert agent is https.global_agent
            assert agent is not http.global_agent
            assert agent.keep_alive is True and agent.timeout == 5.0
            assert https.request("https://example.invalid/").agent is agent
            return agent

    first = trio.run(main)
    assert trio.run(main) is not first


async def test_untrusted_certificate_rejected_by_default(
    server: tuple[https.Server, int],
) -> None:
    _, port = server
    errors_seen: list[BaseException] = []
    with trio.fail_after(5):
        req = https.request(f"https://127.0.0.1:{port}/", agent=False)
        req.on("error", errors_seen.append)
        with pytest.raises(TLSCertificateError) as info:
            await req.end()
            await req.response()
    err = info.value
    # Node: "unable to get local issuer certificate", code UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert err.code == "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
    assert str(err) == "unable to get local issuer certificate"
    assert isinstance(err, ssl.SSLCertVerificationError)
    assert errors_seen == [err]


async def test_reject_unauthorized_false_accepts_untrusted(
    server: tuple[https.Server, int],
) -> None:
    _, port = server
    with trio.fail_after(5):
        res = await https.get(
            f"https://localhost:{port}/insecure", reject_unauthorized=False, agent=False
        )
        assert (await res.json())["url"] == "/insecure"
        # explicitly True behaves as the default
        with pytest.raises(TLSCertificateError):
            await https.get(
                f"https://localhost:{port}/secure", reject_unauthorized=True, agent=False
            )


async def test_servername_sni_and_name_check(ca: trustme.CA, ca_pem: bytes) -> None:
    """The name checked (and sent as SNI) is ``servername``, else the Host header, else host."""
    cert = ca.issue_cert("service.test")
    seen_sni: list[str | None] = []
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ctx.sni_callback = lambda sock, name, c: seen_sni.append(name)  # type: ignore[assignment,misc,return-value]
    with trio.fail_after(5):
        async with https.create_server(_echo, ssl_context=ctx) as srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]  # type: ignore[index]
            url = f"https://127.0.0.1:{port}/"
            with pytest.raises(TLSCertificateError) as info:
                await https.get(url, ca=ca_pem, agent=False)
            assert info.value.code == "ERR_TLS_CERT_ALTNAME_INVALID"
            assert str(info.value).startswith("Hostname/IP does not match certificate's altnames")
            res = await https.get(url, ca=ca_pem, servername="service.test", agent=False)
            assert res.status_code == 200
            await res.read()
            # Node's calculateServerName: the Host header names the server
            res = await https.get(
                url, ca=ca_pem, headers={"host": f"service.test:{port}"}, agent=False
            )
            assert (await res.json())["host"] == f"service.test:{port}"
    # no SNI for an IP address; the servername (and the Host name) otherwise
    assert seen_sni == [None, "service.test", "service.test"]


async def test_keep_alive_reuse_over_tls(
    server: tuple[https.Server, int], agent: https.Agent
) -> None:
    srv, port = server
    connections: list[object] = []
    srv.on("secureConnection", connections.append)
    reused: list[bool] = []
    ports: set[int] = set()
    with trio.fail_after(5):
        for i in range(4):
            req = https.request(f"https://127.0.0.1:{port}/k{i}", method="POST", agent=agent)
            await req.end(b"x" * i)
            res = await req.response()
            info = await res.json()
            assert info["body"] == "x" * i
            ports.add(info["port"])
            reused.append(req.reused_socket)
    assert reused == [False, True, True, True]
    assert len(ports) == 1 and len(connections) == 1
    assert list(agent.free_sockets) == [agent.get_name(**_name_opts(agent, port))]


def _name_opts(agent: https.Agent, port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, **agent.options}


async def test_get_name_matches_nodes_format() -> None:
    # H1-017, R1-115: the https agent name adds the TLS options
    agent = https.Agent()
    assert agent.get_name(host="h", port=1) == "h:1:" + ":" * 20
    name = agent.get_name(
        host="h", port=1, ca="CA", reject_unauthorized=False, servername="x", ciphers="C"
    )
    # what Node v20 prints, with Python's spelling of false
    assert name == "h:1::CA:::C:::False:x::::::::::::"
    # servername equal to host adds nothing; lists join with ',' as JS arrays do
    assert agent.get_name(host="h", servername="h", ca=["A", b"B"]) == "h:::A,B" + ":" * 19
    ctx = ssl.create_default_context()
    assert agent.get_name(host="h", ssl_context=ctx).endswith(f":<SSLContext 0x{id(ctx):x}>")


async def test_get_name_against_node() -> None:
    cases: list[dict[str, Any]] = [
        {"host": "a.test", "port": 443},
        {"host": "a", "port": 8443, "localAddress": "127.0.0.1", "family": 4, "ca": "X"},
        {"host": "a", "cert": "C", "key": "K", "rejectUnauthorized": True, "servername": "b"},
        {"host": "a", "minVersion": "TLSv1.2", "sigalgs": "RSA+SHA256", "secureOptions": 0},
    ]
    script = (
        "const https=require('https');const a=new https.Agent();"
        f"for (const o of {json.dumps(cases)}) console.log(a.getName(o));"
    )
    with trio.fail_after(10):
        proc = await trio.run_process([NODE, "-e", script], capture_stdout=True)
    node_names = proc.stdout.decode().splitlines()
    snake = {
        "localAddress": "local_address",
        "rejectUnauthorized": "reject_unauthorized",
        "minVersion": "min_version",
        "secureOptions": "secure_options",
    }
    agent = https.Agent()
    ours = [agent.get_name(**{snake.get(k, k): v for k, v in c.items()}) for c in cases]
    assert ours == [n.replace("true", "True") for n in node_names]


async def test_different_ca_do_not_share_sockets(
    server: tuple[https.Server, int], ca_pem: bytes
) -> None:
    _, port = server
    other = trustme.CA().cert_pem.bytes()
    url = f"https://127.0.0.1:{port}/"
    with trio.fail_after(5):
        async with https.Agent(keep_alive=True) as agent:
            ports = []
            for ca_opt in (ca_pem, [ca_pem, other], ca_pem, [ca_pem, other]):
                req = https.request(url, ca=ca_opt, agent=agent)
                await req.end()
                res = await req.response()
                ports.append(((await res.json())["port"], req.reused_socket))
            assert [r for _, r in ports] == [False, False, True, True]
            assert ports[0][0] == ports[2][0] and ports[1][0] == ports[3][0]
            assert ports[0][0] != ports[1][0]
            assert len(agent.free_sockets) == 2
        # two agents configured with different CAs keep separate pools
        async with https.Agent(keep_alive=True, ca=ca_pem) as a1:
            async with https.Agent(keep_alive=True, ca=[ca_pem, other]) as a2:
                r1 = await https.get(url, agent=a1)
                p1 = (await r1.json())["port"]
                r2 = await https.get(url, agent=a2)
                p2 = (await r2.json())["port"]
                assert p1 != p2 and not r2.req.reused_socket  # type: ignore[attr-defined]
                assert list(a1.free_sockets) != list(a2.free_sockets)


async def test_client_certificate(ca: trustme.CA, ca_pem: bytes) -> None:
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("client.test")
    with trio.fail_after(5):
        srv = https.create_server(_echo, **_tls_kwargs(server_cert), ca=ca_pem, request_cert=True)
        async with srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]  # type: ignore[index]
            res = await https.get(
                f"https://127.0.0.1:{port}/mtls",
                ca=ca_pem,
                agent=False,
                **_tls_kwargs(client_cert),
            )
            assert (await res.json())["url"] == "/mtls"


# -- the server side: failed handshakes ----------------------------------------------------


async def test_failed_handshakes_emit_tls_client_error_and_server_goes_on(
    server_cert: trustme.LeafCert, ca_pem: bytes
) -> None:
    failures: list[tuple[BaseException, Any]] = []
    with trio.fail_after(5):
        srv = https.create_server(_echo, **_tls_kwargs(server_cert), handshake_timeout=0.3)
        srv.on("tlsClientError", lambda err, sock: failures.append((err, sock)))
        async with srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]  # type: ignore[index]
            # 1. plain HTTP to a TLS port
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert await _read_to_eof(stream) == b""
            # 2. a client that does not trust the certificate aborts the handshake
            with pytest.raises(TLSCertificateError):
                await https.get(f"https://127.0.0.1:{port}/", agent=False)
            # 3. a client that says nothing: the handshake times out
            quiet = await trio.open_tcp_stream("127.0.0.1", port)
            assert await _read_to_eof(quiet) == b""
            while len(failures) < 3:
                await trio.sleep(0.01)
            # the server still serves
            res = await https.get(f"https://127.0.0.1:{port}/ok", ca=ca_pem, agent=False)
            assert res.status_code == 200
            await res.read()
    codes = [getattr(err, "code", None) for err, _ in failures]
    assert codes[0] in ("ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_HTTP_REQUEST")
    # the client gave up on the certificate: an alert, or (trio sends none) an early EOF
    assert codes[1] == "ECONNRESET" or codes[1].startswith("ERR_SSL_")
    assert codes[2] == "ERR_TLS_HANDSHAKE_TIMEOUT"
    assert str(failures[2][0]) == "TLS handshake timeout"
    assert all(sock.encrypted and sock.destroyed for _, sock in failures)
    assert all(sock.remote_address == "127.0.0.1" for _, sock in failures)


async def _read_to_eof(stream: trio.SocketStream) -> bytes:
    data = b""
    try:
        while chunk := await stream.receive_some(65536):
            data += chunk
    except trio.BrokenResourceError:
        pass
    await stream.aclose()
    return data


async def test_close_ends_connections_still_in_handshake(
    server_cert: trustme.LeafCert,
) -> None:
    with trio.fail_after(5):
        srv = https.create_server(_echo, **_tls_kwargs(server_cert))
        async with srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]  # type: ignore[index]
            quiet = await trio.open_tcp_stream("127.0.0.1", port)
            await trio.sleep(0.05)
            start = trio.current_time()
            await srv.close()
            assert trio.current_time() - start < 1.0
            assert await _read_to_eof(quiet) == b""


def test_create_server_needs_a_certificate() -> None:
    with pytest.raises(TypeError):
        https.create_server()
    with pytest.raises(TypeError):
        https.create_server(no_such_option=True, ssl_context=ssl.create_default_context())


# -- real peers ----------------------------------------------------------------------------


@pytest.mark.interop
async def test_curl_cacert_against_our_server(
    server: tuple[https.Server, int], pem_files: dict[str, Path]
) -> None:
    srv, port = server
    connections: list[object] = []
    srv.on("secureConnection", connections.append)
    url = f"https://127.0.0.1:{port}"
    with trio.fail_after(10):
        proc = await trio.run_process(
            [CURL, "-sS", "--fail", "--cacert", str(pem_files["ca"]), f"{url}/one", f"{url}/two"],
            capture_stdout=True,
            capture_stderr=True,
        )
        bodies = proc.stdout.decode().replace("}{", "}\n{").splitlines()
        assert [json.loads(b)["url"] for b in bodies] == ["/one", "/two"]
        assert len(connections) == 1  # curl reused the TLS connection
        # without the CA curl refuses the certificate
        bad = await trio.run_process(
            [CURL, "-sS", f"{url}/x"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert bad.returncode == 60  # CURLE_PEER_FAILED_VERIFICATION


@pytest.mark.interop
async def test_node_https_get_against_our_server(
    server: tuple[https.Server, int], pem_files: dict[str, Path]
) -> None:
    _, port = server
    script = """
const https = require('https'); const fs = require('fs');
const ca = fs.readFileSync(process.argv[1]);
const agent = new https.Agent({keepAlive: true, ca});
function get(path) {
  return new Promise((resolve, reject) => {
    https.get({host: '127.0.0.1', port: +process.argv[2], path, agent}, (res) => {
      let body = ''; res.setEncoding('utf8'); const authorized = res.socket.authorized;
      res.on('data', (c) => body += c);
      res.on('end', () => resolve({status: res.statusCode, body: JSON.parse(body),
                                   reused: res.req.reusedSocket,
                                   authorized}));
    }).on('error', reject);
  });
}
(async () => {
  const out = [await get('/n1'), await get('/n2')];
  console.log(JSON.stringify(out)); agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
"""
    with trio.fail_after(10):
        proc = await trio.run_process(
            [NODE, "-e", script, str(pem_files["ca"]), str(port)],
            capture_stdout=True,
        )
    out = json.loads(proc.stdout)
    assert [o["status"] for o in out] == [200, 200]
    assert [o["body"]["url"] for o in out] == ["/n1", "/n2"]
    assert [o["reused"] for o in out] == [False, True]
    assert all(o["authorized"] for o in out)
    assert all(o["body"]["encrypted"] for o in out)


_NODE_HTTPS_SERVER = """
const https = require('https'); const fs = require('fs');
const server = https.createServer({
  key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]),
}, (req, res) => {
  let body = '';
  req.on('data', (c) => body += c);
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({url: req.url, method: req.method, body,
                            port: req.socket.remotePort, encrypted: !!req.socket.encrypted,
                            sni: req.socket.servername || null}));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => { server.closeAllConnections(); server.close(); });
process.stdin.resume();
"""


@pytest.fixture
def node_https_server(pem_files: dict[str, Path]) -> Iterator[int]:
    proc = subprocess.Popen(
        [NODE, "-e", _NODE_HTTPS_SERVER, str(pem_files["key"]), str(pem_files["cert"])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.interop
async def test_our_client_against_node_https_server(
    node_https_server: int, ca_pem: bytes, agent: https.Agent
) -> None:
    port = node_https_server
    with trio.fail_after(10):
        results = []
        for i in range(3):
            req = https.request(f"https://localhost:{port}/p{i}", method="PUT", agent=agent)
            await req.write(b"a")
            await req.end(b"b")
            res = await req.response()
            results.append((await res.json(), req.reused_socket))
        assert [r["url"] for r, _ in results] == ["/p0", "/p1", "/p2"]
        assert all(r["body"] == "ab" and r["encrypted"] for r, _ in results)
        assert results[0][0]["sni"] == "localhost"
        assert [reused for _, reused in results] == [False, True, True]
        assert len({r["port"] for r, _ in results}) == 1
        # Node's server certificate, checked against our CA option
        with pytest.raises(TLSCertificateError):
            await https.get(f"https://localhost:{port}/", agent=False)
        # an IP host: no SNI, the IP checked against the certificate
        res = await https.get(f"https://127.0.0.1:{port}/ip", ca=ca_pem, agent=False)
        assert (await res.json())["sni"] is None


# -- the peer certificate (H1-151: request.socket.getPeerCertificate()) -------------------

_NODE_PEER_CERTIFICATE = """
const https = require('https'); const fs = require('fs');
https.get({host: '127.0.0.1', port: +process.argv[2], path: '/', agent: false,
           ca: fs.readFileSync(process.argv[1])}, (res) => {
  const s = res.socket; const c = s.getPeerCertificate();
  const out = {authorized: s.authorized, alpn: s.alpnProtocol,
               cert: {...c, raw: c.raw.toString('base64')}};
  res.resume();
  res.on('end', () => { console.log(JSON.stringify(out)); });
});
"""


@pytest.mark.interop
async def test_peer_certificate_is_nodes_object(
    server: tuple[https.Server, int], pem_files: dict[str, Path], ca_pem: bytes
) -> None:
    _, port = server
    with trio.fail_after(10):
        proc = await trio.run_process(
            [NODE, "-e", _NODE_PEER_CERTIFICATE, str(pem_files["ca"]), str(port)],
            capture_stdout=True,
        )
        node = json.loads(proc.stdout)
        res = await https.get(f"https://127.0.0.1:{port}/", ca=ca_pem, agent=False)
        socket = res.socket
        assert socket is not None
        ours = socket.get_peer_certificate()
        assert ours is not None
        assert (socket.authorized, socket.alpn_protocol) == (node["authorized"], node["alpn"])
        await res.read()
        assert socket.get_peer_certificate() is None  # destroyed with its request, as Node
    assert set(ours) == {
        "subject",
        "issuer",
        "subjectaltname",
        "valid_from",
        "valid_to",
        "serialNumber",
        "fingerprint",
        "fingerprint256",
        "fingerprint512",
        "raw",
    }
    assert base64.b64encode(ours.pop("raw")).decode() == node["cert"]["raw"]
    assert ours == {key: node["cert"][key] for key in ours}
    assert ours["subjectaltname"] == "IP Address:127.0.0.1, DNS:localhost"

    # not verified (reject_unauthorized=False): the same certificate, decoded all the same
    with trio.fail_after(10):
        res = await https.get(f"https://127.0.0.1:{port}/", reject_unauthorized=False, agent=False)
        socket = res.socket
        assert socket is not None
        unverified = socket.get_peer_certificate()
        assert unverified is not None
        assert socket.authorized is False  # Python does not verify then (see Socket.authorized)
        await res.read()
    unverified.pop("raw")
    assert unverified == ours


async def test_a_plain_socket_has_no_peer_certificate() -> None:
    async def ok(req: http.IncomingMessage, res: http.ServerResponse) -> None:
        await res.end(b"ok")

    with trio.fail_after(5):
        async with http.create_server(ok) as srv:
            await srv.listen(0, "127.0.0.1")
            res = await http.get(f"http://127.0.0.1:{srv.address()['port']}/", agent=False)
            socket = res.socket
            assert socket is not None
            assert socket.authorized is False and socket.alpn_protocol is None
            with pytest.raises(TypeError, match="TLS socket"):
                socket.get_peer_certificate()
            await res.read()


async def test_server_reads_the_client_certificate_it_asked_for(
    ca: trustme.CA, server_cert: trustme.LeafCert, ca_pem: bytes
) -> None:
    # H1-151: with request_cert, request.socket.get_peer_certificate() has client auth details
    client_cert = ca.issue_cert("client.example")
    seen: list[tuple[bool, dict[str, Any] | None, Any]] = []

    async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
        sock = req.socket
        seen.append((sock.authorized, sock.get_peer_certificate(), sock.alpn_protocol))
        await res.end(b"ok")

    srv = https.create_server(handler, request_cert=True, ca=ca_pem, **_tls_kwargs(server_cert))
    with trio.fail_after(10):
        async with srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]
            res = await https.get(
                f"https://127.0.0.1:{port}/", ca=ca_pem, agent=False, **_tls_kwargs(client_cert)
            )
            assert await res.read() == b"ok"
            # without a client certificate the handshake is refused (reject_unauthorized)
            with pytest.raises((errors.ConnResetError, https.TLSError)):
                await https.get(f"https://127.0.0.1:{port}/", ca=ca_pem, agent=False)
    [(authorized, cert, alpn)] = seen
    assert authorized is True
    assert cert is not None and cert["subjectaltname"] == "DNS:client.example"
    assert cert["issuer"]["O"].startswith("trustme")  # trustme's CA signed it
    assert cert["issuer"]["OU"].startswith("Testing CA")
    assert alpn is False  # our client offers no ALPN, as Node's https client


async def test_connection_comes_before_the_handshake_and_secure_connection_after(
    server_cert: trustme.LeafCert, ca_pem: bytes
) -> None:
    # Node's https.Server is a net.Server: 'connection' gets the TCP socket, before the
    # handshake; 'secureConnection' the TLS socket, which is what requests see.
    events: list[tuple[str, Any]] = []

    async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
        events.append(("request", req.socket))
        await res.end(b"ok")

    srv = https.create_server(handler, **_tls_kwargs(server_cert))
    srv.on("connection", lambda sock: events.append(("connection", sock)))
    srv.on("secureConnection", lambda sock: events.append(("secureConnection", sock)))
    with trio.fail_after(10):
        async with srv:
            await srv.listen(0, "127.0.0.1")
            port = srv.address()["port"]
            res = await https.get(f"https://127.0.0.1:{port}/", ca=ca_pem, agent=False)
            assert await res.read() == b"ok"
            # a client that never speaks TLS still makes a 'connection'
            raw = await trio.open_tcp_stream("127.0.0.1", port)
            await raw.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await raw.receive_some(100)
            await raw.aclose()
    names = [name for name, _ in events]
    assert names == ["connection", "secureConnection", "request", "connection"]
    tcp, tls, seen_by_request = (sock for _, sock in events[:3])
    assert tcp.encrypted is False and tls.encrypted is True
    assert tls is seen_by_request
    assert tcp.remote_port == tls.remote_port


async def test_https_get_reuses_the_pooled_tls_connection_and_frees_its_response(
    server: tuple[https.Server, int], agent: https.Agent
) -> None:
    import gc
    import weakref

    _, port = server
    url = f"https://127.0.0.1:{port}/g"
    reused = []
    with trio.fail_after(5):
        for _ in range(3):
            res = await https.get(url, agent=agent)
            assert (await res.json())["url"] == "/g"
            reused.append(res.req.reused_socket)
        gc.disable()
        try:
            res_ref, req_ref = weakref.ref(res), weakref.ref(res.req)
            del res
            assert res_ref() is None and req_ref() is None  # no request/response cycle
        finally:
            gc.enable()
    assert reused == [False, True, True]
