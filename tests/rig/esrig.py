#!/usr/bin/env python3
"""esrig - a throwaway Elasticsearch (or OpenSearch) node for pgcdc's tests.

One single-node cluster on a free loopback port, its config, data and logs in
one directory.  The server comes from Maven Central: resolve_home() runs
``mvn dependency:copy-dependencies`` on a generated pom.xml naming the
distribution's ``integ-test-zip`` (Elasticsearch 7.17, the version the
users' pipelines run; or OpenSearch 2.x) and unpacks it once into
~/.cache/pgcdc/<kind>-<version>/home.

Security: Elasticsearch's integ-test-zip is the OSS server plus the
x-pack-core and x-pack-security modules, so ``security=True`` gives the real
thing: users in the file realm (elasticsearch-users) and, with ``tls=True``, HTTPS on the REST port with a certificate signed by a CA the rig
makes with openssl (``node.ca_file``).

API keys: the ``.security`` index that stores them needs the analyzers of
the ``analysis-common`` module, which the integ-test-zip lacks and Elastic
does not publish on its own.  For security nodes of Elasticsearch 7.16+ the
rig installs it from ``org.codelibs.elasticsearch.module:analysis-common``
(Elasticsearch's own module as codelibs republished it, last for 7.10.2),
with the two classes that moved since 7.10 (``ParseField``,
``NamedXContentRegistry``, now in ``org.elasticsearch.xcontent``) relocated
by maven-shade-plugin; the result is a second home,
~/.cache/pgcdc/elasticsearch-<version>/home-analysis.  ``POST
/_security/api_key`` then works as in the full distribution.

Elasticsearch refuses to run as root.  When the caller is root the node runs
as the rig's unprivileged user (pgrig's PGRIG_USER, created when missing),
from a copy of the home and a server directory that user can reach.

Library use::

    from esrig import EsNode
    with EsNode("/tmp/es", security=True, tls=True) as es:
        es.url                       # "http(s)://127.0.0.1:PORT"
        es.user, es.password, es.ca_file
        es.request("GET", "/_cluster/health")     # -> (status, parsed JSON)
        es.count("index"), es.docs("index")      # refreshed count, {_id: _source}
        es.stop(); es.start()                     # same port, same data
        es.kill()                                 # SIGKILL

Command line::

    python3 tests/rig/esrig.py resolve [--kind opensearch]
    python3 tests/rig/esrig.py start --dir D [--kind K] [--security] [--tls]
        -> prints ESRIG_DIR, ESRIG_URL, ESRIG_USER, ESRIG_PASSWORD, ESRIG_CA_FILE, ESRIG_LOG
    python3 tests/rig/esrig.py stop --dir D [--kill]
    python3 tests/rig/esrig.py status --dir D

Environment: PGCDC_ES_VERSION / PGCDC_OPENSEARCH_VERSION pick other releases,
PGCDC_ES_HOME / PGCDC_OPENSEARCH_HOME an unpacked server to use instead,
ES_JAVA_HOME, JAVA_HOME or PATH the java binary (17 works for both).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

from kafkarig import (COMPLETE_FILE, RigError, _file_lock, _free_port, _java,
                      _run_with_progress, cache_dir, manifest_complete, mvn_resolve, pom_xml)
from pgrig import _chown_tree, _ensure_rig_user, _is_root, _reachable
from rigutil import ServerProcess, _pid_alive, _pid_cmdline, load_state

ES_VERSION = "7.17.29"
OPENSEARCH_VERSION = "2.19.1"
KINDS = {
    # kind: (groupId, artifactId, version env, home env, default version, executable)
    "elasticsearch": ("org.elasticsearch.distribution.integ-test-zip", "elasticsearch",
                      "PGCDC_ES_VERSION", "PGCDC_ES_HOME", ES_VERSION, "elasticsearch"),
    "opensearch": ("org.opensearch.distribution.integ-test-zip", "opensearch",
                   "PGCDC_OPENSEARCH_VERSION", "PGCDC_OPENSEARCH_HOME", OPENSEARCH_VERSION,
                   "opensearch"),
}
STATE_FILE = "esrig.json"
DEFAULT_USER = "pgcdc"
DEFAULT_PASSWORD = "pgcdc-secret"


def _log(msg: str) -> None:
    print(f"[esrig] {msg}", file=sys.stderr, flush=True)


def version_of(kind: str) -> str:
    _, _, venv, _, default, _ = KINDS[kind]
    return os.environ.get(venv) or default


def resolve_home(kind: str = "elasticsearch", version: str | None = None,
                 progress=_log, timeout: float = 1200) -> str:
    """The unpacked server of `kind`, fetched with mvn and unpacked on first use.

    Idempotent and safe against concurrent runs (file locks; the unpacked
    tree is renamed into place only when complete).
    """
    group, artifact, _, home_env, _, exe = KINDS[kind]
    if os.environ.get(home_env):
        return os.path.abspath(os.environ[home_env])
    version = version or version_of(kind)
    root = cache_dir("PGCDC_ES_CACHE", f"{kind}-{version}")
    zip_dir = os.path.join(root, "zip")
    zip_name = f"{artifact}-{version}.zip"

    def resolved(d: str) -> bool:
        try:
            return manifest_complete(d, version)
        except (OSError, ValueError):
            return False

    pom = pom_xml(f"the {kind} integ-test-zip", f"{kind}-dist", version,
                  [(group, artifact, version, "zip")])
    mvn_resolve(zip_dir, pom, version, f"{group}:{artifact}:{version}:zip",
                "PGCDC_ES" if kind == "elasticsearch" else "PGCDC_OPENSEARCH", resolved,
                lambda files: None if zip_name in files else f"{zip_name} is missing",
                progress, timeout)
    home = os.path.join(root, "home")
    marker = os.path.join(home, COMPLETE_FILE)
    if os.path.isfile(marker):
        return home
    with _file_lock(home + ".lock"):
        if os.path.isfile(marker):
            return home
        shutil.rmtree(home, ignore_errors=True)
        scratch = tempfile.mkdtemp(prefix="home.tmp-", dir=root)
        try:
            _unzip(os.path.join(zip_dir, zip_name), scratch)
            top = os.path.join(scratch, f"{artifact}-{version}")
            if not os.path.isfile(os.path.join(top, "bin", exe)):
                raise RigError(f"{zip_name} has no {artifact}-{version}/bin/{exe}")
            with open(os.path.join(top, COMPLETE_FILE), "w") as f:
                json.dump({"version": version}, f)
            os.rename(top, home)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    progress(f"unpacked {kind} {version} into {home}")
    return home


ANALYSIS_COMMON = ("org.codelibs.elasticsearch.module", "analysis-common", "7.10.2")
SHADE_PLUGIN = "3.6.0"
# classes the 7.10 module names that 7.16+ has under another package
RELOCATIONS = (("org.elasticsearch.common.ParseField", "org.elasticsearch.xcontent.ParseField"),
               ("org.elasticsearch.common.xcontent.NamedXContentRegistry",
                "org.elasticsearch.xcontent.NamedXContentRegistry"))


def _analysis_common_pom() -> str:
    g, a, v = ANALYSIS_COMMON
    rel = "\n".join(f"        <relocation><pattern>{p}</pattern><shadedPattern>{r}"
                    "</shadedPattern></relocation>" for p, r in RELOCATIONS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by tests/rig/esrig.py: Elasticsearch's analysis-common module for 7.16+ -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pgcdc.rig</groupId>
  <artifactId>es-analysis-common</artifactId>
  <version>{v}</version>
  <dependencies>
    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>
    </dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-shade-plugin</artifactId>
    <version>{SHADE_PLUGIN}</version>
    <executions><execution><phase>package</phase><goals><goal>shade</goal></goals>
      <configuration><relocations>
{rel}
      </relocations></configuration>
    </execution></executions>
  </plugin></plugins></build>
</project>
"""


def _needs_analysis_common(version: str) -> bool:
    """Whether the relocated 7.10 module fits `version` (7.16 and later 7.x)."""
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return major == 7 and minor >= 16


def analysis_common_jar(progress=_log, timeout: float = 600) -> str:
    """The relocated analysis-common jar, built once with mvn (dependency +
    maven-shade-plugin) into ~/.cache/pgcdc/es-analysis-common-<v>/."""
    v = ANALYSIS_COMMON[2]
    d = cache_dir("PGCDC_ES_ANALYSIS_CACHE", f"es-analysis-common-{v}")
    jar = os.path.join(d, f"analysis-common-{v}.jar")
    if os.path.isfile(jar):
        return jar
    with _file_lock(d + ".lock"):
        if os.path.isfile(jar):
            return jar
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RigError("mvn not found: install maven (bash scripts/install-deps.sh)")
        scratch = tempfile.mkdtemp(prefix=os.path.basename(d) + ".tmp-",
                                   dir=os.path.dirname(d))
        try:
            pom = os.path.join(scratch, "pom.xml")
            with open(pom, "w") as f:
                f.write(_analysis_common_pom())
            progress(f"building {':'.join(ANALYSIS_COMMON)} for x-pack security with mvn "
                     "(first use only)")
            log = os.path.join(scratch, "mvn.log")
            rc = _run_with_progress([mvn, "-B", "-f", pom, "-Dmaven.test.skip=true", "package"],
                                    log, progress, timeout)
            built = os.path.join(scratch, "target", f"es-analysis-common-{v}.jar")
            if rc != 0 or not os.path.isfile(built):
                with open(log, errors="replace") as f:
                    raise RigError(f"mvn failed ({rc}) building analysis-common:\n"
                                   f"{f.read()[-6000:]}")
            os.makedirs(d, exist_ok=True)
            shutil.copyfile(pom, os.path.join(d, "pom.xml"))
            os.rename(built, jar)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return jar


def with_analysis_common(home: str, version: str, progress=_log) -> str:
    """A copy of home (hard links where possible) whose modules/ has
    analysis-common, next to home as home-analysis; made once."""
    dest = os.path.join(os.path.dirname(home), "home-analysis")
    marker = os.path.join(dest, COMPLETE_FILE)
    if os.path.isfile(marker):
        return dest
    jar = analysis_common_jar(progress)
    with _file_lock(dest + ".lock"):
        if os.path.isfile(marker):
            return dest
        shutil.rmtree(dest, ignore_errors=True)
        scratch = tempfile.mkdtemp(prefix="home-analysis.tmp-", dir=os.path.dirname(home))
        try:
            top = os.path.join(scratch, "h")

            def link(src, dst):
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)

            shutil.copytree(home, top, symlinks=True, copy_function=link,
                            ignore=shutil.ignore_patterns(COMPLETE_FILE))
            mod = os.path.join(top, "modules", "analysis-common")
            os.makedirs(mod)
            shutil.copyfile(jar, os.path.join(mod, os.path.basename(jar)))
            with open(os.path.join(mod, "plugin-descriptor.properties"), "w") as f:
                # no extended.plugins=lang-painless: only its scripted filters need it
                f.write("description=Adds \"built in\" analyzers to Elasticsearch.\n"
                        f"version={ANALYSIS_COMMON[2]}\nname=analysis-common\n"
                        "classname=org.elasticsearch.analysis.common.CommonAnalysisPlugin\n"
                        f"java.version=1.8\nelasticsearch.version={version}\n"
                        "extended.plugins=\nhas.native.controller=false\n")
            with open(os.path.join(top, COMPLETE_FILE), "w") as f:
                json.dump({"version": version, "analysis-common": ANALYSIS_COMMON[2]}, f)
            os.rename(top, dest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    progress(f"made {dest}: {version} with analysis-common")
    return dest


def _unzip(path: str, dest: str) -> None:
    """Extracts keeping the Unix permission bits (zipfile drops them)."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            out = z.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(out, mode)


def _java_home() -> str:
    for env in ("ES_JAVA_HOME", "JAVA_HOME"):
        h = os.environ.get(env)
        if h and os.access(os.path.join(h, "bin", "java"), os.X_OK):
            return h
    return os.path.dirname(os.path.dirname(os.path.realpath(_java())))


def _shared_home(home: str, kind: str, pw) -> str:
    """A copy of home the rig user can read, when it cannot reach the cache."""
    if _reachable(home, pw):
        return home
    with open(os.path.join(home, COMPLETE_FILE)) as f:
        manifest = json.load(f)
    extra = "-analysis" if "analysis-common" in manifest else ""
    dest = os.path.join(tempfile.gettempdir(),
                        f"pgcdc-esrig-{kind}-{manifest.get('version', 'x')}{extra}")
    if os.path.isfile(os.path.join(dest, COMPLETE_FILE)):
        return dest
    with _file_lock(dest + ".lock"):
        if not os.path.isfile(os.path.join(dest, COMPLETE_FILE)):
            shutil.rmtree(dest, ignore_errors=True)
            scratch = tempfile.mkdtemp(prefix=os.path.basename(dest) + ".tmp-")
            os.chmod(scratch, 0o755)
            shutil.copytree(home, os.path.join(scratch, "h"), symlinks=True)
            os.rename(os.path.join(scratch, "h"), dest)
            os.rmdir(scratch)
    return dest


def _openssl(*args: str, cwd: str) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RigError(f"openssl {' '.join(args)} failed:\n{r.stderr}")


def make_certs(d: str) -> tuple[str, str, str]:
    """A CA and a server certificate for 127.0.0.1/localhost in d (PEM):
    (ca.pem, node.pem, node.key). Kept when already there."""
    ca, crt, key = (os.path.join(d, n) for n in ("ca.pem", "node.pem", "node.key"))
    if all(os.path.isfile(p) for p in (ca, crt, key)):
        return ca, crt, key
    os.makedirs(d, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj",
             "/CN=pgcdc test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
             "node.key", "-out", "node.csr", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "3650", "-extfile", "san.ext", "-out", "node.pem", cwd=d)
    return ca, crt, key


class EsNode(ServerProcess):
    """A single-node Elasticsearch/OpenSearch cluster in its own directory.

    workdir: directory for config/, data/ and logs/ (default a fresh temp dir
    that destroy() removes).  security: x-pack security with a superuser
    user/password in the file realm (Elasticsearch only); on 7.16+ with the
    analysis-common module (see with_analysis_common), so API keys work.
    tls: HTTPS on the REST port (needs security).  heap: -Xms/-Xmx.
    """

    what = "Elasticsearch node"

    def __init__(self, workdir: str | None = None, kind: str = "elasticsearch",
                 version: str | None = None, security: bool = False, tls: bool = False,
                 heap: str = "512m", keep: bool = False, user: str = DEFAULT_USER,
                 password: str = DEFAULT_PASSWORD):
        if kind not in KINDS:
            raise RigError(f"unknown kind {kind!r}: {', '.join(KINDS)}")
        if (security or tls) and kind != "elasticsearch":
            raise RigError("security/tls: only the Elasticsearch rig has them "
                           "(its integ-test-zip carries x-pack-security)")
        if tls and not security:
            raise RigError("tls needs security=True")
        self._own_dir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="esrig-")
        os.makedirs(workdir, exist_ok=True)
        self.workdir = os.path.abspath(workdir)
        state = _load_state(self.workdir)
        self.kind = kind
        self.version = version or state.get("version") or version_of(kind)
        self.security, self.tls = security, tls
        self.heap, self.keep = heap, keep
        self.user, self.password = user, password
        self.host = "127.0.0.1"
        self.port: int = state.get("port") or 0
        self.transport_port: int = state.get("transport_port") or 0
        self.pid: int | None = state.get("pid")
        self.run_as = _ensure_rig_user() if _is_root() else None
        # The server's own directory must be reachable by the rig user (pytest's
        # tmp dirs are 0700 when we are root): then a fresh one in /tmp.
        self.server_dir = state.get("server_dir") or self.workdir
        if self.run_as is not None and not _reachable(self.server_dir, self.run_as):
            self.server_dir = tempfile.mkdtemp(prefix="esrig-srv-")
            os.chmod(self.server_dir, 0o755)
        self.conf_dir = os.path.join(self.server_dir, "config")
        self.data_dir = os.path.join(self.server_dir, "data")
        self.logs_dir = os.path.join(self.server_dir, "logs")
        self.log_path = os.path.join(self.logs_dir, "rig.log")
        self.stdout_path = os.path.join(self.server_dir, "stdout.log")
        self.ca_file: str | None = os.path.join(self.workdir, "certs", "ca.pem") if tls else None
        self._proc: subprocess.Popen | None = None

    # -------------------------------------------------------------- access
    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def _ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def request(self, method: str, path: str, body=None, auth: str | None = "basic",
                timeout: float = 30, headers: dict | None = None):
        """(HTTP status, parsed JSON body or text) of one REST call; body may be a
        dict (JSON) or str (sent as is, e.g. NDJSON). auth: "basic" (the rig's
        superuser when security is on), None, or an Authorization header value."""
        data = None
        h = {"Content-Type": "application/json"}
        if body is not None:
            data = (json.dumps(body) if not isinstance(body, (str, bytes)) else body)
            data = data.encode() if isinstance(data, str) else data
            if isinstance(body, (str, bytes)):
                h["Content-Type"] = "application/x-ndjson"
        if auth == "basic" and self.security:
            tok = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            h["Authorization"] = f"Basic {tok}"
        elif auth and auth != "basic":
            h["Authorization"] = auth
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._ssl_context()) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body=None):
        status, out = self.request(method, path, body)
        if status >= 300:
            raise RigError(f"{method} {path}: HTTP {status}: {out}")
        return out

    def count(self, index: str) -> int:
        self.ok("POST", f"/{index}/_refresh")
        return self.ok("GET", f"/{index}/_count")["count"]

    def docs(self, index: str, with_version: bool = False) -> dict:
        """Every document of index: {_id: _source} (or {_id: (_source, _version)})."""
        self.ok("POST", f"/{index}/_refresh")
        out, after = {}, None
        while True:
            q = {"size": 1000, "version": True, "query": {"match_all": {}},
                 # unmapped_type: an index without any mapping yet has no _id to sort on
                 "sort": [{"_id": {"order": "asc", "unmapped_type": "keyword"}}]}
            if after is not None:
                q["search_after"] = after
            hits = self.ok("POST", f"/{index}/_search", q)["hits"]["hits"]
            for h in hits:
                out[h["_id"]] = (h["_source"], h["_version"]) if with_version else h["_source"]
            if len(hits) < 1000:
                return out
            after = hits[-1]["sort"]

    def index_exists(self, index: str) -> bool:
        return self.request("HEAD", f"/{index}")[0] == 200

    def delete_index(self, index: str) -> None:
        status, out = self.request("DELETE", f"/{index}")
        if status not in (200, 404):
            raise RigError(f"DELETE /{index}: HTTP {status}: {out}")

    # ------------------------------------------------------------- config
    def _settings(self) -> dict:
        s = {
            "cluster.name": "pgcdc-rig",
            "node.name": "rig",
            "discovery.type": "single-node",
            "network.host": self.host,
            "http.port": self.port,
            "transport.port": self.transport_port,
            "path.data": self.data_dir,
            "path.logs": self.logs_dir,
            # a full test disk must not turn indices read-only under the tests
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.auto_create_index": True,
        }
        if self.kind == "elasticsearch":
            s["xpack.security.enabled"] = self.security
        if self.tls:
            ca, crt, key = make_certs(os.path.join(self.workdir, "certs"))
            for name, src in (("ca.pem", ca), ("node.pem", crt), ("node.key", key)):
                shutil.copyfile(src, os.path.join(self.conf_dir, name))
            s.update({"xpack.security.http.ssl.enabled": True,
                      "xpack.security.http.ssl.key": "node.key",
                      "xpack.security.http.ssl.certificate": "node.pem",
                      "xpack.security.http.ssl.certificate_authorities": ["ca.pem"]})
        return s

    def _write_config(self, home: str) -> None:
        os.makedirs(self.conf_dir, exist_ok=True)
        for n in os.listdir(os.path.join(home, "config")):
            src = os.path.join(home, "config", n)
            dst = os.path.join(self.conf_dir, n)
            if os.path.isdir(src):
                shutil.copytree(src, dst, dirs_exist_ok=True)
            elif n not in ("users", "users_roles") or not os.path.exists(dst):
                shutil.copyfile(src, dst)
        # the JVM's own files (GC log, heap dumps, error files) into our logs dir
        jvm = os.path.join(self.conf_dir, "jvm.options")
        with open(jvm) as f:
            text = f.read()
        with open(jvm, "w") as f:
            f.write(text.replace("=logs/", f"={self.logs_dir}/")
                    .replace(":file=logs/", f":file={self.logs_dir}/"))
        # the rig's log file: one plain file, whatever the distribution's log4j says
        with open(os.path.join(self.conf_dir, "log4j2.properties"), "w") as f:
            f.write("status = error\n"
                    "appender.file.type = File\nappender.file.name = file\n"
                    f"appender.file.fileName = {self.log_path}\n"
                    "appender.file.layout.type = PatternLayout\n"
                    "appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n\n"
                    "rootLogger.level = info\nrootLogger.appenderRef.file.ref = file\n")
        lines = ["# written by esrig.py before every start; edits are lost"]
        lines += [f"{k}: {json.dumps(v)}" for k, v in self._settings().items()]
        cfg = "elasticsearch.yml" if self.kind == "elasticsearch" else "opensearch.yml"
        with open(os.path.join(self.conf_dir, cfg), "w") as f:
            f.write("\n".join(lines) + "\n")
        if self.security:
            self._add_user(home)

    def _env(self) -> dict:
        env = dict(os.environ)
        jopts = f"-Xms{self.heap} -Xmx{self.heap}"
        if self.kind == "elasticsearch":
            env.update(ES_PATH_CONF=self.conf_dir, ES_JAVA_OPTS=jopts, ES_JAVA_HOME=_java_home())
            env.pop("JAVA_HOME", None)
        else:
            env.update(OPENSEARCH_PATH_CONF=self.conf_dir, OPENSEARCH_JAVA_OPTS=jopts,
                       OPENSEARCH_JAVA_HOME=_java_home())
        return env

    def _popen_user(self) -> dict:
        if self.run_as is None:
            return {}
        return {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}

    def _add_user(self, home: str) -> None:
        """The superuser of the rig in the file realm (config/users)."""
        with open(os.path.join(self.conf_dir, "users")) as f:
            if any(line.startswith(self.user + ":") for line in f):
                return
        tool = os.path.join(home, "bin", "elasticsearch-users")
        r = subprocess.run([tool, "useradd", self.user, "-p", self.password, "-r", "superuser"],
                           env=self._env(), capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RigError(f"elasticsearch-users useradd failed:\n{r.stdout}{r.stderr}")

    def _save_state(self) -> None:
        state = {"kind": self.kind, "version": self.version, "port": self.port,
                 "transport_port": self.transport_port, "pid": self.pid,
                 "security": self.security, "tls": self.tls, "heap": self.heap,
                 "server_dir": self.server_dir, "url": self.url, "user": self.user,
                 "password": self.password, "ca_file": self.ca_file, "log": self.log_path}
        with open(os.path.join(self.workdir, STATE_FILE), "w") as f:
            json.dump(state, f, indent=1)

    # ---------------------------------------------------------- lifecycle
    def start(self, timeout: float = 180) -> "EsNode":
        """Writes the config, starts the JVM, waits until the cluster is usable."""
        if self.is_running():
            return self
        home = resolve_home(self.kind, self.version)
        if self.security and not os.environ.get(KINDS[self.kind][3]) and \
                _needs_analysis_common(self.version):
            home = with_analysis_common(home, self.version)
        if self.run_as is not None:
            home = _shared_home(home, self.kind, self.run_as)
        first = not self.port
        for attempt in range(3):  # a free port can be taken between probe and bind
            if not self.port:
                self.port = _free_port()
            if not self.transport_port:
                self.transport_port = _free_port()
            for d in (self.data_dir, self.logs_dir):
                os.makedirs(d, exist_ok=True)
            self._write_config(home)
            if self.run_as is not None:
                _chown_tree(self.server_dir, self.run_as.pw_uid, self.run_as.pw_gid)
            self._save_state()
            log_start = self.log_size()
            self._spawn(home)
            try:
                self.wait_ready(timeout)
                return self
            except RigError:
                tail = self.log_tail(20000, since=log_start) + self._stdout_tail()
                self.kill()
                if not (first and "BindException" in tail and attempt < 2):
                    raise
                self.port = self.transport_port = 0
        raise RigError("unreachable")

    def _spawn(self, home: str) -> None:
        exe = os.path.join(home, "bin", KINDS[self.kind][5])
        with open(self.stdout_path, "ab") as out:
            out.write(f"\n===== start {time.strftime('%Y-%m-%d %H:%M:%S')} "
                      f"{self.kind} {self.version} =====\n".encode())
            out.flush()
            # bin/elasticsearch execs java in the foreground: our pid is the JVM's
            self._proc = subprocess.Popen([exe], stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.server_dir,
                                          env=self._env(), start_new_session=True,
                                          **self._popen_user())
        self.pid = self._proc.pid
        self._save_state()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if not self.is_running():
                raise RigError(f"{self.kind} exited during start-up\n--- stdout ---\n"
                               f"{self._stdout_tail()}\n--- log tail ---\n{self.log_tail()}")
            try:
                status, out = self.request("GET", "/_cluster/health?wait_for_status=yellow"
                                           "&timeout=1s", timeout=5)
                if status == 200 and out.get("status") in ("yellow", "green"):
                    return
                last = f"HTTP {status}: {out}"
            except (OSError, ValueError) as e:
                last = str(e)
            time.sleep(0.3)
        raise RigError(f"{self.kind} not ready after {timeout}s ({last})\n--- stdout ---\n"
                       f"{self._stdout_tail()}\n--- log tail ---\n{self.log_tail()}")

    def is_running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        return bool(self.pid) and _pid_alive(self.pid) and \
            any(self.conf_dir in a for a in _pid_cmdline(self.pid))

    def _remove_dirs(self) -> None:
        super()._remove_dirs()
        if self.server_dir != self.workdir:
            shutil.rmtree(self.server_dir, ignore_errors=True)


def _load_state(workdir: str) -> dict:
    return load_state(os.path.join(workdir, STATE_FILE))


def attach(workdir: str) -> EsNode:
    """An EsNode for an existing rig directory (from the CLI)."""
    workdir = os.path.abspath(workdir)
    s = _load_state(workdir)
    return EsNode(workdir, kind=s.get("kind", "elasticsearch"), version=s.get("version"),
                  security=s.get("security", False), tls=s.get("tls", False),
                  heap=s.get("heap", "512m"), keep=True, user=s.get("user", DEFAULT_USER),
                  password=s.get("password", DEFAULT_PASSWORD))


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("resolve", help="fetch and unpack the server, print its home")
    r.add_argument("--kind", choices=list(KINDS), default="elasticsearch")
    s = sub.add_parser("start", help="start a node and leave it running")
    s.add_argument("--dir", required=True)
    s.add_argument("--kind", choices=list(KINDS), default="elasticsearch")
    s.add_argument("--security", action="store_true")
    s.add_argument("--tls", action="store_true")
    s.add_argument("--heap", default="512m")
    st = sub.add_parser("stop", help="stop a node started with start")
    st.add_argument("--dir", required=True)
    st.add_argument("--kill", action="store_true")
    stat = sub.add_parser("status", help="whether the node runs, and its URL")
    stat.add_argument("--dir", required=True)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "resolve":
            print(resolve_home(a.kind))
        elif a.cmd == "start":
            n = EsNode(a.dir, kind=a.kind, security=a.security or a.tls, tls=a.tls,
                       heap=a.heap, keep=True)
            n.start()
            for k, v in (("DIR", n.workdir), ("URL", n.url), ("USER", n.user if n.security
                         else ""), ("PASSWORD", n.password if n.security else ""),
                         ("CA_FILE", n.ca_file or ""), ("LOG", n.log_path)):
                print(f"ESRIG_{k}={shlex.quote(v)}")
        elif a.cmd == "stop":
            n = attach(a.dir)
            n.kill() if a.kill else n.stop()
        else:
            n = attach(a.dir)
            running = n.is_running()
            print(f"{'running' if running else 'stopped'} {n.kind} {n.version} {n.url}")
            return 0 if running else 3
    except RigError as e:
        print(f"esrig: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
