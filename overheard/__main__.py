from overheard.cli import app

app()
