"""The S3 client (src/common/s3.c) against a real MinIO (tests/rig/s3rig.py).

Driven through tests/tools/s3_tool.c, built beside pgcdc: put (from memory
and streamed), get, head, list across pages, delete, a 20 MB multipart
upload, conditional creates, clear errors for bad credentials, a missing
bucket and an unreachable endpoint, and a server that is down for 30 s while
an upload waits for it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from conftest import DEFAULT_TIMEOUT


@pytest.fixture
def s3_tool(pgcdc_bin) -> str:
    path = os.path.join(os.path.dirname(pgcdc_bin), "pgcdc_s3_tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"s3_tool not found beside pgcdc ({path}): it is built with pgcdc",
                    pytrace=False)
    return path


class Tool:
    """Runs s3_tool against one server with that server's credentials."""

    def __init__(self, path: str, server, url: str):
        self.path, self.server, self.url = path, server, url

    def env(self, **override) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.server.env())
        env.update(override)
        return env

    def argv(self, *args, opts=(), url=None) -> list[str]:
        return [self.path, *opts, url or self.url, *args]

    def run(self, *args, opts=(), url=None, env=None, timeout=None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args, opts=opts, url=url), env=env or self.env(),
                              capture_output=True, timeout=timeout or DEFAULT_TIMEOUT * 4)

    def ok(self, *args, **kw) -> bytes:
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"s3_tool {' '.join(args)}: {r.returncode}\n" \
            f"{r.stderr.decode(errors='replace')}"
        return r.stdout

    def listing(self, prefix: str = "", opts=()) -> dict[str, int]:
        out = self.ok("list", prefix, opts=opts).decode()
        return {k: int(size) for k, size, _etag in
                (line.split("\t") for line in out.splitlines())}


@pytest.fixture
def tool(s3_tool, s3, unique_name) -> Tool:
    return Tool(s3_tool, s3, f"s3://{s3.bucket}/{unique_name}")


def _file(tmp_path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_put_get_head_list_delete(tool, s3, tmp_path, unique_name):
    small = _file(tmp_path, "small", b"hello, lake\n")
    tool.ok("put", "a/one.txt", small)
    tool.ok("put-fd", "a/two.txt", small)
    # Keys with characters that need encoding reach the server intact.
    odd = "b/sp ace+ü&=?#%~*!(),$@;:.json"
    tool.ok("put", odd, small)
    tool.ok("put", "empty", _file(tmp_path, "empty", b""))
    assert tool.ok("get", "a/one.txt", "-") == b"hello, lake\n"
    assert tool.ok("get", "a/two.txt", "-") == b"hello, lake\n"
    assert tool.ok("get", odd, "-") == b"hello, lake\n"
    assert tool.ok("get", "empty", "-") == b""
    size, etag = tool.ok("head", "a/one.txt").decode().split()
    assert size == "12" and etag.startswith('"')
    # What another client sees: the object, under the client's prefix.
    with s3.filesystem().open_input_stream(f"{s3.bucket}/{unique_name}/{odd}") as f:
        assert f.read() == b"hello, lake\n"
    assert tool.listing() == {"a/one.txt": 12, "a/two.txt": 12, odd: 12, "empty": 0}
    assert tool.listing("a/") == {"a/one.txt": 12, "a/two.txt": 12}

    tool.ok("delete", "a/one.txt")
    tool.ok("delete", "a/one.txt")  # deleting a missing key succeeds
    assert tool.run("get", "a/one.txt", "-").returncode == 2
    assert tool.run("head", "a/one.txt").returncode == 2
    assert "a/one.txt" not in tool.listing()


def test_list_pages(tool, tmp_path):
    """ListObjectsV2 continuation: 7 objects read 3 to a page."""
    f = _file(tmp_path, "x", b"x")
    for i in range(7):
        tool.ok("put", f"k{i}", f)
    r = tool.run("list", opts=["--debug", "--page-size", "3"])
    assert r.returncode == 0, r.stderr.decode()
    assert [line.split("\t")[0] for line in r.stdout.decode().splitlines()] == \
        [f"k{i}" for i in range(7)]
    assert "page 3 read, the last" in r.stderr.decode()


def test_get_is_bounded(tool, tmp_path):
    tool.ok("put", "k", _file(tmp_path, "k", b"0123456789"))
    assert tool.ok("get", "k", "-", "10") == b"0123456789"
    r = tool.run("get", "k", "-", "9")
    assert r.returncode == 1
    assert "larger than the limit of 9 bytes" in r.stderr.decode()


def test_multipart_upload_20mb(tool, s3, tmp_path, unique_name):
    data = os.urandom(20 * 1000 * 1000)
    big = _file(tmp_path, "big", data)
    tool.ok("put-file", "big.bin", big, opts=["--part-size", str(5 << 20)])
    size, etag = tool.ok("head", "big.bin").decode().split()
    assert size == str(len(data))
    assert etag.endswith('-4"'), etag  # a multipart object of 4 parts
    out = tmp_path / "back"
    tool.ok("get", "big.bin", str(out), str(len(data)))
    assert out.read_bytes() == data
    with s3.filesystem().open_input_stream(f"{s3.bucket}/{unique_name}/big.bin") as f:
        assert f.read() == data
    # Below the part size: one PUT (no "-N" in the ETag).
    tool.ok("put-file", "small.bin", _file(tmp_path, "s", data[:1000]))
    assert "-" not in tool.ok("head", "small.bin").decode().split()[1]
    # An aborted upload leaves no object behind.
    tool.ok("multipart-abort", "aborted.bin", _file(tmp_path, "p", data[: 5 << 20]))
    assert tool.run("head", "aborted.bin").returncode == 2
    assert set(tool.listing()) == {"big.bin", "small.bin"}


def test_virtual_host_style(s3_tool, make_s3, tmp_path):
    """Bucket in the host name (AWS's default addressing): MinIO with
    MINIO_DOMAIN=localhost serves http://vhost.localhost:<port>/<key>, and
    libcurl resolves *.localhost to the loopback address."""
    srv = make_s3(bucket="vhost", env={"MINIO_DOMAIN": "localhost"})
    tool = Tool(s3_tool, srv, "s3://vhost/p")
    opts = ["--endpoint", f"http://localhost:{srv.port}", "--virtual-host"]
    data = os.urandom(6 << 20)
    tool.ok("put", "a b.bin", _file(tmp_path, "f", data[:100]), opts=opts)
    tool.ok("put-file", "big.bin", _file(tmp_path, "big", data), opts=opts + ["--part-size",
                                                                               str(5 << 20)])
    assert tool.ok("get", "a b.bin", "-", opts=opts) == data[:100]
    assert tool.ok("get", "big.bin", "-", str(len(data)), opts=opts) == data
    assert tool.listing(opts=opts) == {"a b.bin": 100, "big.bin": len(data)}
    assert srv.list_objects("vhost/p/") == {"vhost/p/a b.bin": 100,
                                        "vhost/p/big.bin": len(data)}


def test_conditional_put(tool, tmp_path):
    """If-None-Match: * (MinIO honours it): a create never replaces an object."""
    first = _file(tmp_path, "first", b"first")
    second = _file(tmp_path, "second", b"second")
    tool.ok("put", "_delta_log/0.json", first, "--if-none-match")
    r = tool.run("put", "_delta_log/0.json", second, "--if-none-match")
    assert r.returncode == 3, r.stderr.decode()
    r = tool.run("put-fd", "_delta_log/0.json", second, "--if-none-match")
    assert r.returncode == 3, r.stderr.decode()
    assert tool.ok("get", "_delta_log/0.json", "-") == b"first"
    # Without the condition a PUT replaces it.
    tool.ok("put", "_delta_log/0.json", second)
    assert tool.ok("get", "_delta_log/0.json", "-") == b"second"


def test_bad_credentials_are_named(tool, s3, tmp_path):
    f = _file(tmp_path, "f", b"x")
    r = tool.run("put", "k", f, env=tool.env(AWS_SECRET_ACCESS_KEY="not-the-secret"))
    err = r.stderr.decode()
    assert r.returncode == 1
    assert "the secret key does not match the access key" in err
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment" in err
    assert "not-the-secret" not in err

    r = tool.run("list", env=tool.env(AWS_ACCESS_KEY_ID="nobody"))
    err = r.stderr.decode()
    assert r.returncode == 1
    assert f"the server at {s3.endpoint} does not know the access key" in err
    assert s3.secret_key not in err

    r = tool.run("head", "k", env=tool.env(AWS_SESSION_TOKEN="bogus-token"))
    err = r.stderr.decode()
    assert r.returncode == 1 and "session token was refused" in err
    assert "AWS_SESSION_TOKEN" in err and "bogus-token" not in err

    env = tool.env()
    del env["AWS_SECRET_ACCESS_KEY"]
    r = tool.run("list", env=env)
    assert r.returncode == 1
    assert "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in r.stderr.decode()


def test_missing_bucket_is_named(tool, s3, tmp_path):
    f = _file(tmp_path, "f", b"x")
    for args in (["put", "k", f], ["get", "k", "-"], ["head", "k"], ["list"],
                 ["put-file", "k", f]):
        r = tool.run(*args, url="s3://no-such-bucket/p")
        err = r.stderr.decode()
        assert r.returncode == 1, (args, err)
        assert f'bucket "no-such-bucket" does not exist at {s3.endpoint}' in err, (args, err)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_named(tool, tmp_path):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    start = time.time()
    r = tool.run("put", "k", _file(tmp_path, "f", b"x"),
                 opts=["--endpoint", endpoint, "--retry-ms", "1500"])
    err = r.stderr.decode()
    assert r.returncode == 1
    assert f"cannot reach {endpoint}" in err and "gave up after" in err
    assert "retry budget 2 s" in err or "retry budget 1 s" in err
    assert time.time() - start < DEFAULT_TIMEOUT


def _wait_for(pred, what: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise AssertionError(f"{what} not within {timeout}s")
        time.sleep(0.1)


def test_server_down_30s_upload_retries_and_lands(s3_tool, make_s3, tmp_path):
    """The server stops; a multipart upload started meanwhile retries until
    the server is back 30 s later, then lands with every byte."""
    srv = make_s3(bucket="lake")
    tool = Tool(s3_tool, srv, "s3://lake/outage")
    data = os.urandom(12 << 20)
    path = _file(tmp_path, "data", data)
    srv.stop()
    log = tmp_path / "tool.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(tool.argv("put-file", "obj", path,
                                          opts=["--part-size", str(5 << 20),
                                                "--retry-ms", "120000"]),
                                env=tool.env(), stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_for(lambda: b"retrying" in log.read_bytes(), "a retry", DEFAULT_TIMEOUT)
        time.sleep(30)  # the outage itself, not a wait for a condition
        assert proc.poll() is None, log.read_text()
        srv.start()
        assert proc.wait(timeout=DEFAULT_TIMEOUT * 2) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "cannot reach" in log.read_text()
    out = tmp_path / "back"
    tool.ok("get", "obj", str(out), str(len(data)))
    assert out.read_bytes() == data
