from djops.cli import main

main()
