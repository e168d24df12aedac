"""«Поиск компаний»: the reference host product (SPEC §8, issue 5 item 6).

It plays an outside product: it reads the limit and spends it only through the public
API over HTTP with its API key (`api_client.py`), never through Podpiska's functions.
"""
