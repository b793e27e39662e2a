from thirdspace.cli import main

raise SystemExit(main())
