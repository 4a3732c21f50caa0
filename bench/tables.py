"""Writes each benchmark's output into BENCHMARKS.md between its markers.

    python3 bench/tables.py BENCHMARKS.md DIR

For every file DIR/NAME, the lines between `<!-- bench/NAME.sh -->` and the next
`<!-- end -->` are replaced by the file's contents. A marker without a file is left alone;
a file without a marker is an error, so no result is silently dropped.
"""
import pathlib, re, sys

doc = pathlib.Path(sys.argv[1])
text = doc.read_text()
for result in sorted(pathlib.Path(sys.argv[2]).iterdir()):
    block = re.compile(rf"(<!-- bench/{re.escape(result.name)}\.sh -->\n).*?(<!-- end -->)", re.S)
    if not block.search(text):
        sys.exit(f"{doc} has no <!-- bench/{result.name}.sh --> marker for these results")
    body = result.read_text().rstrip("\n") + "\n"
    text = block.sub(lambda m: m.group(1) + body + m.group(2), text)
doc.write_text(text)
