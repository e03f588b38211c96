"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from logging.config import fileConfig

from alembic import context

from models.tables import Base, is_modelled

config = context.config
if config.config_file_name and config.attributes.get("engine") is None:  # the alembic command, with alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from kernel.settings import load_settings
        from models.warehouse import connect

        engine = connect(config.get_main_option("sqlalchemy.url") or load_settings().warehouse_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
            compare_type=True,
            include_object=is_modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `newsetl db upgrade`")
run_migrations_online()
