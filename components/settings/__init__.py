"""Stack settings: the stack file parsed once into frozen dataclasses, every problem reported with its key path.

Owns the reading of the config (reader.py), the shared value rules (rules.py), the typed records (model.py), their
loading (load.py) section by section (network.py, pools.py, inventory.py, addons.py, web_tls.py), the rules across
sections (cluster_rules.py), the unit helpers (quantities.py, subnets.py), and the catalogue of every setting the
readers read (catalog.py records them, descriptions.py says what each does). Pure: imports no Pulumi, and of the
program only `components.sizing`, `components.host` and `components.versions`.

Other layers use the names below; tests may reach into the modules.
"""

from components.settings.load import load_settings
from components.settings.model import PROJECT, PoolSettings, Settings, SettingsError

__all__ = ["PROJECT", "PoolSettings", "Settings", "SettingsError", "load_settings"]
