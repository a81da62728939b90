from tracecli.cli.main import run

run()
