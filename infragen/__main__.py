from infragen.cli import main

main()
