from multiprocessing import Process 
import os
 
def foo(name): 
    print(f'name: {name}') 
    print(f'parent process id: {os.getppid()}') 
    print(f'sub process id: {os.getpid()}') 
    
if __name__ == '__main__': 
    print(f'parent process id：{os.getpid()}') 
    p = Process(target=foo, args=('bob',)) 
    p.start() 
    p.join() 
# 输出 => 
# parent process id: 18676 
# name: bob 
# parent process id: 18676 
# sub process id: 9856
