from graphbuild.cli import app

app(prog_name="graphbuild")
