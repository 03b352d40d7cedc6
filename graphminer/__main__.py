from graphminer.cli import main

main()
