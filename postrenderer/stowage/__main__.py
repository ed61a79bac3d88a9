from stowage.cli import console

console()
