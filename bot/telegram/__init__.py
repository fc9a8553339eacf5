"""The Telegram side: aiogram dispatcher, routers (one per handler module), keyboards."""
