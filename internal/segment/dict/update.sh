#!/bin/sh
# Copies gse's simplified-Chinese dictionary, IDF table and stop list from
# the module go.mod pins into this directory, gzip-compressed (-n: no name
# or time, so the same input gives the same bytes). Run by go generate in
# internal/segment after upgrading github.com/go-ego/gse.
set -e
cd "$(dirname "$0")"
src="$(go list -m -f '{{.Dir}}' github.com/go-ego/gse)/data/dict/zh"
for f in s_1.txt idf.txt stop_tokens.txt; do
	gzip -9nc "$src/$f" > "$f.gz"
done
