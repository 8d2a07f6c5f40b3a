from multiprocessing import Process 
import os
 
class Foo(Process): 
    def __init__(self, name): 
        super().__init__() 
        self.name = name 
    def run(self): 
        print(f'name: {self.name}') 
        print(f'sub process: {os.getpid()}')
         
if __name__ == '__main__': 
    print(f'parent process: {os.getpid()}') 
    p = Foo('bob') 
    p.start() 
# 输出 => 
# parent process: 48424 
# name: bob 
# sub process: 38724
