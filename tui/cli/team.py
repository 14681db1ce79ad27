"""``baton store push``: a local store's spans into a team store (DuckLake)."""

from __future__ import annotations

import click

from tui.cli.options import reports_errors


@click.command("push")
@click.argument("local_store", metavar="LOCAL_STORE")
@click.argument("lake_url", metavar="LAKE_URL")
@click.option(
    "--lake-data",
    metavar="PATH",
    envvar="BATON_LAKE_DATA",
    help="The lake's data path for a new lake, a directory or s3://bucket/prefix/ "
    "(default: $BATON_LAKE_DATA).",
)
@reports_errors
def push(local_store: str, lake_url: str, lake_data: str | None) -> None:
    """Copy every span of LOCAL_STORE into the team store LAKE_URL
    (ducklake:postgres:<libpq string> or ducklake:<file>.ducklake). Spans the lake holds
    already are skipped, so pushing twice adds nothing."""
    from pathlib import Path

    from tracer.store import Store, StoreError
    from tracer.store.lake import LakeStore, push
    from tracer.store.url import is_lake_url

    if not is_lake_url(lake_url):
        raise StoreError(
            f"{lake_url!r} is not a team store: give ducklake:postgres:<libpq string> "
            "or ducklake:<file>.ducklake"
        )
    if is_lake_url(local_store) or not Path(local_store).expanduser().exists():
        raise StoreError(f"there is no local store at {local_store}")
    lake = LakeStore(lake_url, lake_data=lake_data)
    added = push(Store(local_store), lake)
    click.echo(f"pushed {added} new spans from {local_store} to {lake.target.describe_catalog()}")
