"""Exercise 4, a reference solution: iterative topological sort and backward."""


def topological_order(root):
    order, seen = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(child._children)))
                break
        else:  # all children placed: the node goes next
            stack.pop()
            order.append(node)
    return order


def backward(root):
    root.grad = 1
    for node in reversed(topological_order(root)):
        for child, local in zip(node._children, node._local_grads):
            child.grad += local * node.grad
