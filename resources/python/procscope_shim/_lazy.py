"""Patching a module when the script first imports it, not before: importing what a script may
never use costs every process of the run its import time (multiprocessing.managers alone ~20 ms).

The hook only finds the module's spec (through the finders after it) and wraps that spec's own
loader instance; the module loads exactly as it would have, then its patch runs.
"""

import sys

from ._client import client

#: module name -> patch(module), for modules not imported yet.
_pending = {}


def _patch_safely(name, patch, module):
    try:
        patch(module)
    except Exception as e:  # an interpreter we do not know: run anyway, say so
        try:
            client.post({'k': 'warn', 'message': 'procscope could not instrument %s: %r' % (name, e)})
        except Exception:
            pass


class _ImportHook(object):
    def find_spec(self, fullname, path=None, target=None):
        patch = _pending.get(fullname)
        if patch is None:
            return None
        del _pending[fullname]
        if not _pending:
            self._remove()
        spec = None
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find = getattr(finder, 'find_spec', None)
            if find is None:
                continue
            try:
                spec = find(fullname, path, target)
            except Exception:
                spec = None
            if spec is not None:
                break
        loader = getattr(spec, 'loader', None)
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        orig_exec = loader.exec_module

        def exec_module(module):
            if getattr(module, '__name__', None) != fullname:
                # A loader shared by several modules (zipimport): not ours.
                return orig_exec(module)
            try:
                del loader.exec_module
            except Exception:
                pass
            orig_exec(module)
            _patch_safely(fullname, patch, module)

        try:
            # On this loader instance only: a file loader is made for this one module.
            loader.exec_module = exec_module
        except Exception:
            pass
        return spec

    def _remove(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


_hook = _ImportHook()


def when_imported(name, patch):
    """Runs patch(module) now if `name` is imported already, else right after its first import."""
    module = sys.modules.get(name)
    if module is not None:
        _patch_safely(name, patch, module)
        return
    _pending[name] = patch
    if _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)
