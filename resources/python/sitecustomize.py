# procscope's Python mode: `procscope run script.py` puts this folder on PYTHONPATH. Without
# procscope (no PROCSCOPE_SOCKET in the environment) this file does nothing at all.
import os as _os

if _os.environ.get('PROCSCOPE_SOCKET'):
    try:
        import procscope_shim as _procscope_shim

        _procscope_shim.install()
    except Exception as _e:  # never break the user's script
        import sys as _sys

        _sys.__stderr__.write('procscope: instrumentation disabled: %r\n' % (_e,))
