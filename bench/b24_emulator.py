"""The Bitrix24 emulator as the benchmark runs it (a process of its own), with the catalog service stand-ins."""

from emulators.bitrix24.__main__ import main

from .shims import install_service_methods

if __name__ == "__main__":
    install_service_methods()
    main()
