from klr.cli.entry import main

raise SystemExit(main())
