from stowage.cli.main import console

console()
