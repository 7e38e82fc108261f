# The custom JavaScript reward "{{name}}" of the playground, to translate to Python:
#
{{js_source}}
#
def {{name}}(prompts, completions, answer, **kwargs):
    # dataset columns arrive as keyword arguments (kwargs["my_column"] is a list, one value per completion)
    raise NotImplementedError("translate the JavaScript reward above to Python")
