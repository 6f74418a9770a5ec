"""Prints an image's size, layer by layer, compressed (gzip, as a registry stores and `docker pull` fetches it)
and uncompressed (as it takes up on disk once pulled), from an OCI layout that `buildah push ... oci:DIR`
wrote with gzip compression.

Usage: image_size.py OCI_DIR TARGET_MB
"""

import gzip
import json
import os
import sys

MB = 1_000_000  # Docker and registries count sizes in decimal megabytes.


def blob(layout, digest):
    algorithm, value = digest.split(":", 1)
    return os.path.join(layout, "blobs", algorithm, value)


def uncompressed_size(path):
    total = 0
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            total += len(chunk)
    return total


def main():
    layout, target_mb = sys.argv[1], float(sys.argv[2])
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(blob(layout, index["manifests"][0]["digest"])))
    config = json.load(open(blob(layout, manifest["config"]["digest"])))
    # Each layer's history entry: the ones that made no layer (ENV, USER, ...) are skipped.
    history = [h.get("created_by", "") for h in config.get("history", []) if not h.get("empty_layer")]
    if len(history) != len(manifest["layers"]):
        history = [""] * len(manifest["layers"])

    rows, total_compressed, total_uncompressed = [], 0, 0
    for layer, created_by in zip(manifest["layers"], history):
        compressed = layer["size"]
        uncompressed = uncompressed_size(blob(layout, layer["digest"]))
        total_compressed += compressed
        total_uncompressed += uncompressed
        what = " ".join(created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ").split())
        rows.append((compressed, uncompressed, (what or "base layer")[:90]))

    print(f"   {'compressed':>11} {'uncompressed':>13}  layer")
    for compressed, uncompressed, what in rows:
        print(f"   {compressed / MB:8.1f} MB {uncompressed / MB:10.1f} MB  {what}")
    print(f"   {total_compressed / MB:8.1f} MB {total_uncompressed / MB:10.1f} MB  total")
    for name, size in (("compressed", total_compressed), ("uncompressed", total_uncompressed)):
        verdict = "met" if size < target_mb * MB else "NOT met"
        print(f"   target under {target_mb:g} MB, {name}: {verdict} ({size / MB:.1f} MB)")


if __name__ == "__main__":
    main()
