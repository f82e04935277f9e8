"""The explorer's server under clients that misbehave: malformed headers get a 400,
stalled clients neither pin nor pile up threads, a client that goes away is not
an error, and --host 0.0.0.0 serves the names the network reaches it by."""

import http.client
import socket
import threading
import time

import pytest

import microgpt
from microgpt.explore import server as server_module
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer, make_server


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("server")
    data = d / "names.txt"
    data.write_text("emma\nolivia\nava\nmia\nzoe\nnoah\nliam\njack\n" * 5)
    return microgpt.train(data=str(data), steps=2, n_embd=8, n_head=2, block_size=8).save(d / "m.json")


@pytest.fixture
def serve(model):
    servers = []

    def start(host="127.0.0.1"):
        server = make_server(Explorer(load_models([str(model)]), []), host, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def raw(port, data, timeout=10):
    """Send bytes as they are; the status line of the answer (or '' when the connection closes first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0].decode()


def get(port, target="/api/models", host=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", target, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    r = conn.getresponse()
    return r.status, r.read()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_content_length_that_is_not_a_number_is_a_400(serve, capfd, method):
    port = serve().server_address[1]
    status = raw(port, f"{method} /api/live/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                       f"application/json\r\nContent-Length: abc\r\n\r\n".encode())
    assert status.startswith("HTTP/1.0 400") or status.startswith("HTTP/1.1 400"), status
    assert get(port)[0] == 200  # and the server goes on
    assert "Traceback" not in capfd.readouterr().err


def test_stalled_clients_are_dropped_and_the_threads_stay_bounded(serve, monkeypatch, capfd):
    monkeypatch.setattr(server_module.Handler, "timeout", 1)
    port = serve().server_address[1]
    before = threading.active_count()
    stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(server_module.MAX_WORKERS + 20)]
    stalled[0].sendall(b"GET /api/models HTTP/1.1\r\n")  # half a request, then nothing
    time.sleep(0.5)
    assert threading.active_count() - before <= server_module.MAX_WORKERS
    start = time.monotonic()
    assert get(port)[0] == 200  # served once the stalled ones time out
    assert time.monotonic() - start < 15
    for s in stalled:
        s.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "timed out" not in err


def test_a_client_that_goes_away_mid_answer_is_not_an_error(serve, capfd):
    port = serve().server_address[1]
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET /api/embeddings?model=m HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset on close
        s.close()
    assert get(port)[0] == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err


def test_bound_to_every_interface_it_answers_the_names_it_is_reached_by(serve):
    port = serve("0.0.0.0").server_address[1]
    assert get(port, host=f"192.0.2.7:{port}")[0] == 200  # the machine's address on the network
    assert get(port, host=f"127.0.0.1:{port}")[0] == 200
    local = serve().server_address[1]
    assert get(local, host=f"192.0.2.7:{local}")[0] == 403  # bound to loopback: its own names only
