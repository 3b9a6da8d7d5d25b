"""shilu (實錄): a knowledge graph and SPARQL endpoint for Chinese history.

The installed package maps the repository's folders onto subpackages:
``shilu.extract`` (text in, facts out), ``shilu.graph`` (facts to RDF, store, endpoint, CLI),
``shilu.ontology`` and ``shilu.queries`` (data shipped with the package).
"""

__version__ = "0.1.0"
