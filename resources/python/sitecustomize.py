# procscope's Python mode: `procscope run script.py` puts this folder first on PYTHONPATH, so this
# file shadows the `sitecustomize` the interpreter would otherwise have run (the user's, a venv's,
# or the distribution's, like Debian's in /usr/lib/python3.X). That one still runs, first, exactly
# as Python's `site` would have run it. Without procscope (no PROCSCOPE_SOCKET in the environment)
# nothing else happens.


def _procscope_chain_sitecustomize():
    import os
    import sys

    try:
        from importlib.machinery import PathFinder

        here = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))

        def elsewhere(entry):
            # Not a procscope shim folder, ours or another copy's: two shims would run each
            # other's sitecustomize forever.
            try:
                folder = entry or os.curdir
                if os.path.isfile(os.path.join(folder, 'procscope_shim', '__init__.py')):
                    return False
                return os.path.normcase(os.path.realpath(folder)) != here
            except (TypeError, ValueError, OSError):
                return True

        path = [p for p in sys.path if isinstance(p, str) and elsewhere(p)]
        spec = PathFinder.find_spec('sitecustomize', path)
        if spec is None or spec.loader is None:
            return
        from importlib.util import module_from_spec

        module = module_from_spec(spec)
    except Exception:  # finding it is ours: never the user's problem
        return

    ours = sys.modules.get('sitecustomize')
    # What `import sitecustomize` binds is read back from sys.modules once this file has run,
    # so site (and any later import) gets the user's module, as without procscope.
    sys.modules['sitecustomize'] = module
    # As site.execsitecustomize: an error is printed in one line (a traceback with -v) and the
    # interpreter goes on; SystemExit and KeyboardInterrupt go through.
    try:
        try:
            spec.loader.exec_module(module)
        except BaseException:
            # As an import that fails: the half-run module is not kept (ours stands in, since
            # site's import expects the name to be bound).
            if ours is not None:
                sys.modules['sitecustomize'] = ours
            raise
    except ImportError as exc:
        if exc.name != 'sitecustomize':
            _procscope_site_error(exc)
    except Exception as exc:
        _procscope_site_error(exc)


def _procscope_site_error(err):
    import sys

    if sys.flags.verbose:
        sys.excepthook(*sys.exc_info())
    else:
        sys.stderr.write('Error in sitecustomize; set PYTHONVERBOSE for traceback:\n%s: %s\n' % (err.__class__.__name__, err))


def _procscope_install():
    import os

    if not os.environ.get('PROCSCOPE_SOCKET'):
        return
    try:
        import procscope_shim

        procscope_shim.install()
    except Exception as e:  # never break the user's script
        import sys

        sys.__stderr__.write('procscope: instrumentation disabled: %r\n' % (e,))


# The user's first: procscope then wraps what it set up (sys.excepthook, sys.stdout) instead of
# being replaced by it.
_procscope_chain_sitecustomize()
_procscope_install()
