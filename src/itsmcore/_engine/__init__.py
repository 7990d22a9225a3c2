"""The behaviour behind :class:`itsmcore.Engine`, one group per module.

:class:`~itsmcore.engine.Engine` stays the one façade: its methods are thin wrappers
over the plain functions here, which take the engine (or the pieces they need). Nothing
here is public; import from :mod:`itsmcore` instead. These modules import
:mod:`itsmcore.engine` only for type checking, so the import graph stays acyclic.
"""
