from podpiska.cli import main

main()
