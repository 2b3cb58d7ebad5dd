"""Preference labelling: ``rewardkit annotate`` serves a page where people compare two answers.

``pairing`` builds candidate pairs from a samples file, ``db`` keeps them and every label in
SQLite, ``app`` is the web app (Starlette, imported only by the serve command), ``export``
writes TRL preference pairs and ``agreement`` measures how much annotators agree.
"""
