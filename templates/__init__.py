"""The jinja2 pages and emails (``ack/``, ``email/``), the bundle's verifier page (``bundle/``) and their
stylesheet (``static/``); ``templates.render`` is the one jinja2 renderer over them.

A package so that a regular install carries the templates with the code. The API's ``create_app`` and
the CLI's services builder each make one ``Renderer`` and hand it to ``build_services``; the domain sees
it only through ``vault.rendering.Renderer`` (a Protocol) and never imports jinja2.
"""
