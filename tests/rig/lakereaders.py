"""lakereaders - the data-lake readers the tests check pgcdc's output with.

Readers people use on Parquet and Delta Lake tables, set up for local paths
or for the rig's S3 server (s3rig.MinioServer):

    duckdb_connect(server=None)     duckdb connection; with a server, its httpfs
                                    extension loaded and an S3 secret for it
    spark_session(server=None)      a local SparkSession with Delta Lake and,
                                    with a server, s3a:// pointed at it

pyarrow (pyarrow.fs.S3FileSystem: server.filesystem()) and deltalake
(storage_options=server.delta_storage_options()) need no setup of their own.

Everything comes from PyPI (scripts/install-deps.sh) or Maven Central:
duckdb cannot download its extensions here, so the httpfs extension comes
from the duckdb-ext-httpfs wheel, which must match the duckdb release; Spark
fetches the Delta and hadoop-aws jars with Ivy on first use into
~/.cache/pgcdc/ivy (SPARK_PACKAGES).
"""

from __future__ import annotations

import os
import time

from kafkarig import RigError, cache_dir

# delta-spark 3.3 is the Delta release built for Spark 3.5 (Scala 2.12);
# hadoop-aws must be the Hadoop release pyspark 3.5 bundles (3.3.4), and it
# pulls the matching AWS SDK bundle.
SPARK_PACKAGES = ["io.delta:delta-spark_2.12:3.3.2", "org.apache.hadoop:hadoop-aws:3.3.4"]

_spark = None
_spark_server = None


def _import(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise RigError(f"{name} is not installed "
                       "(bash scripts/install-deps.sh puts it in .venv)") from None


def duckdb_extension_dir() -> str:
    """The extension directory of the duckdb-ext-httpfs wheel (duckdb_ext/extensions)."""
    _import("duckdb")
    try:
        import duckdb_ext  # type: ignore
    except ImportError:
        raise RigError("duckdb-ext-httpfs is not installed "
                       "(bash scripts/install-deps.sh puts it in .venv)") from None
    for base in duckdb_ext.__path__:
        d = os.path.join(base, "extensions")
        if os.path.isdir(d):
            return d
    raise RigError("the duckdb-ext-httpfs wheel has no extensions/ directory")


def duckdb_connect(server=None):
    """A duckdb connection; with server, httpfs and an S3 secret for it (path style, http)."""
    duckdb = _import("duckdb")
    if server is None:
        return duckdb.connect()
    # Never downloads: the wheel's directory holds httpfs for this duckdb release.
    con = duckdb.connect(config={"extension_directory": duckdb_extension_dir(),
                                 "autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute("LOAD httpfs")
    host = server.endpoint.split("://", 1)[1]
    con.execute("CREATE SECRET rig (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, "
                "URL_STYLE 'path', USE_SSL false)",
                [server.access_key, server.secret_key, server.region, host])
    return con


def spark_session(server=None, progress=print):
    """A local Spark session with Delta Lake, s3a:// set up for server.

    Started once per process and reused (starting Spark takes tens of
    seconds); asking for another server restarts it.  The first start
    resolves SPARK_PACKAGES from Maven Central into ~/.cache/pgcdc/ivy.
    """
    global _spark, _spark_server
    if _spark is not None and _spark_server is server:
        return _spark
    stop_spark()
    _import("pyspark")
    _import("delta")
    from pyspark.sql import SparkSession  # type: ignore

    ivy = cache_dir("PGCDC_IVY_DIR", "ivy")
    b = (SparkSession.builder.master("local[2]").appName("pgcdc-tests")
         .config("spark.jars.packages", ",".join(SPARK_PACKAGES))
         .config("spark.jars.ivy", ivy)
         .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
         .config("spark.sql.catalog.spark_catalog",
                 "org.apache.spark.sql.delta.catalog.DeltaCatalog")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         # Delta rebuilds a table's state in 50 tasks by default: too many
         # for the small tables of the tests on two cores.
         .config("spark.databricks.delta.snapshotPartitions", "2")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.driver.memory", "1g"))
    if server is not None:
        b = (b.config("spark.hadoop.fs.s3a.endpoint", server.endpoint)
             .config("spark.hadoop.fs.s3a.access.key", server.access_key)
             .config("spark.hadoop.fs.s3a.secret.key", server.secret_key)
             .config("spark.hadoop.fs.s3a.endpoint.region", server.region)
             .config("spark.hadoop.fs.s3a.path.style.access", "true")
             .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
             .config("spark.hadoop.fs.s3a.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem")
             .config("spark.hadoop.fs.s3a.aws.credentials.provider",
                     "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"))
    if not os.path.isdir(os.path.join(ivy, "jars")):
        progress(f"[lakereaders] first Spark start: resolving {', '.join(SPARK_PACKAGES)} "
                 f"from Maven Central into {ivy}")
    start = time.time()
    _spark = b.getOrCreate()
    _spark.sparkContext.setLogLevel("ERROR")
    _spark_server = server
    progress(f"[lakereaders] Spark {_spark.version} started in {time.time() - start:.1f}s")
    return _spark


def stop_spark() -> None:
    global _spark, _spark_server
    if _spark is not None:
        _spark.stop()
    _spark = _spark_server = None
