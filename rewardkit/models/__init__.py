"""Hugging Face model helpers shared by the trainers, the demo, tests and benchmarks.

``tiny`` builds small tokenizers and models from configs (no downloads); ``hf`` quiets
transformers' own output. Both need ``rewardkit[train]`` (torch, transformers); importing this
package does not import them.
"""
