from klr.cli.main import main

raise SystemExit(main())
