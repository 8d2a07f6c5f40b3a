from multiprocessing import Queue 
# 定义一个最大长度为 3 的队列
q = Queue(3) 
# 通过 put 方法添加成员
q.put(1) 
q.put(2) 
q.put(3) 
# 判断队列是否已满
print(q.full()) # => True 
# 获取队列当前大小
print(q.qsize()) # => 3 
# 通过 get 方法获取成员
print(q.get()) # => 1 
print(q.get()) # => 2 
print(q.get()) # => 3 
# 判断队列是否已空
print(q.empty()) # => True
