from geo.cli.main import main

raise SystemExit(main())
