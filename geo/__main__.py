import sys

from geo.cli.client import run_through_server

# In the CLI server when one is running for this code (see geo.cli.client), else right here.
code = run_through_server(sys.argv[1:])
if code is None:
    from geo.cli.main import main

    code = main()
raise SystemExit(code)
